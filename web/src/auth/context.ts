import { createContext, useContext } from 'react'

export interface SignUp {
  name: string
  email: string
  password: string
}

export interface Auth {
  /** Whether tokens are stored (they may still be refreshed or refused by the server). */
  signedIn: boolean
  /** `POST /api/auth/login`; throws `ApiProblem` (401 wrong password, 429 too many tries). */
  signIn(email: string, password: string): Promise<void>
  /** `POST /api/auth/register` then `signIn`; throws `ApiProblem` with field errors. */
  signUp(account: SignUp): Promise<void>
  /** `POST /api/auth/google` with Google's ID token (`credential`); throws `ApiProblem` (401 refused). */
  signInWithGoogle(idToken: string): Promise<void>
  /** `POST /api/auth/logout`, then forgets the tokens and every cached answer. */
  signOut(): Promise<void>
}

export const AuthContext = createContext<Auth | null>(null)

/** The auth context; only inside `<AuthProvider>` (the app's entry puts it around everything). */
export function useAuth(): Auth {
  const auth = useContext(AuthContext)
  if (!auth) throw new Error('useAuth outside <AuthProvider>')
  return auth
}
