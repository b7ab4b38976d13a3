/**
 * Google sign-in with Google Identity Services (GIS): the platform says whether it is on
 * (`GET /api/auth/config`, `google_client_id`), `loadGoogleIdentity()` loads Google's script
 * once, and its button hands back an ID token (`credential`) that `POST /api/auth/google`
 * exchanges for our own token pair (see `AuthProvider`'s `signInWithGoogle`).
 */
import { useQuery } from '@tanstack/react-query'
import { api, call } from '../api/client'

export const GOOGLE_IDENTITY_SCRIPT = 'https://accounts.google.com/gsi/client'

/** What GIS hands the callback: `credential` is the Google ID token (a JWT). */
export interface GoogleCredentialResponse {
  credential: string
}

/** The part of `google.accounts.id` this app uses. */
export interface GoogleAccountsId {
  initialize(config: {
    client_id: string
    callback: (response: GoogleCredentialResponse) => void
    ux_mode?: 'popup' | 'redirect'
    context?: 'signin' | 'signup' | 'use'
  }): void
  renderButton(
    parent: HTMLElement,
    options: {
      type?: 'standard' | 'icon'
      theme?: 'outline' | 'filled_blue' | 'filled_black'
      size?: 'large' | 'medium' | 'small'
      text?: 'signin_with' | 'signup_with' | 'continue_with' | 'signin'
      shape?: 'rectangular' | 'pill' | 'circle' | 'square'
      width?: number
    },
  ): void
}

interface WithGoogle {
  google?: { accounts?: { id?: GoogleAccountsId } }
}

const authConfigKey = ['auth', 'config'] as const

/** The platform's sign-in options; `google_client_id` is null when Google sign-in is off. */
export function useAuthConfig() {
  return useQuery({
    queryKey: authConfigKey,
    queryFn: () => call(api.GET('/api/auth/config')),
    staleTime: Infinity,
    retry: 1,
  })
}

let loading: Promise<GoogleAccountsId> | null = null

function loaded(): GoogleAccountsId | undefined {
  return (window as Window & WithGoogle).google?.accounts?.id
}

/** Google's script, added to the page once; rejects when it cannot be loaded (a later call tries again). */
export function loadGoogleIdentity(): Promise<GoogleAccountsId> {
  const ready = loaded()
  if (ready) return Promise.resolve(ready)
  loading ??= new Promise<GoogleAccountsId>((resolve, reject) => {
    const script = document.createElement('script')
    script.src = GOOGLE_IDENTITY_SCRIPT
    script.async = true
    script.defer = true
    script.addEventListener('load', () => {
      const id = loaded()
      if (id) resolve(id)
      else reject(new Error('Google sign-in did not start.'))
    })
    script.addEventListener('error', () => {
      script.remove()
      reject(new Error('Google sign-in could not be loaded.'))
    })
    document.head.appendChild(script)
  }).catch((error: unknown) => {
    loading = null
    throw error
  })
  return loading
}
