import { useQueryClient } from '@tanstack/react-query'
import { useCallback, useMemo, useSyncExternalStore, type ReactNode } from 'react'
import { api, call } from '../api/client'
import { AuthContext, type Auth, type SignUp } from './context'
import { getTokens, setTokens, subscribeTokens } from './tokens'

const hasTokens = () => getTokens() !== null

/** Keeps the tokens (localStorage, ./tokens.ts) and offers sign in (password or Google), sign up and sign out. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient()
  const signedIn = useSyncExternalStore(subscribeTokens, hasTokens, hasTokens)

  const signIn = useCallback(
    async (email: string, password: string) => {
      const pair = await call(api.POST('/api/auth/login', { body: { email, password } }))
      queryClient.clear()
      setTokens({ access_token: pair.access_token, refresh_token: pair.refresh_token })
    },
    [queryClient],
  )

  const signInWithGoogle = useCallback(
    async (idToken: string) => {
      const pair = await call(api.POST('/api/auth/google', { body: { id_token: idToken } }))
      queryClient.clear()
      setTokens({ access_token: pair.access_token, refresh_token: pair.refresh_token })
    },
    [queryClient],
  )

  const signUp = useCallback(
    async (account: SignUp) => {
      await call(api.POST('/api/auth/register', { body: account }))
      await signIn(account.email, account.password)
    },
    [signIn],
  )

  const signOut = useCallback(async () => {
    const tokens = getTokens()
    try {
      if (tokens) await call(api.POST('/api/auth/logout', { body: { refresh_token: tokens.refresh_token } }))
    } catch {
      // already spent or the server is away: forgetting the tokens here still signs out
    } finally {
      setTokens(null)
      queryClient.clear()
    }
  }, [queryClient])

  const auth = useMemo<Auth>(
    () => ({ signedIn, signIn, signUp, signInWithGoogle, signOut }),
    [signedIn, signIn, signUp, signInWithGoogle, signOut],
  )
  return <AuthContext value={auth}>{children}</AuthContext>
}
