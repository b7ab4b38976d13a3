import { useEffect, useRef, useState } from 'react'
import { useNavigate } from 'react-router'
import { ProblemMessage, Spinner } from '../ui'
import { useAuth } from './context'
import { loadGoogleIdentity, useAuthConfig } from './google'

export interface GoogleSignInProps {
  /** Where to go once signed in (`nextPath(location.search)`). */
  next: string
  /** The button's words: "Sign in with Google" or "Sign up with Google". */
  mode: 'signin' | 'signup'
}

/**
 * Google's sign-in button when the platform has a Google client id; nothing otherwise.
 * Its ID token goes to `POST /api/auth/google`; a refusal shows the problem's title and detail.
 */
export function GoogleSignIn({ next, mode }: GoogleSignInProps) {
  const config = useAuthConfig()
  const clientId = config.data?.google_client_id ?? null
  const { signInWithGoogle } = useAuth()
  const navigate = useNavigate()
  const holder = useRef<HTMLDivElement>(null)
  const [unavailable, setUnavailable] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)

  // GIS keeps the callback given to initialize(); it reads the latest render's through this ref
  const onCredential = useRef<(credential: string) => void>(() => {})
  useEffect(() => {
    onCredential.current = (credential: string) => {
      setBusy(true)
      setError(null)
      signInWithGoogle(credential).then(
        () => navigate(next, { replace: true }),
        (problem: unknown) => {
          setError(problem)
          setBusy(false)
        },
      )
    }
  }, [signInWithGoogle, navigate, next])

  useEffect(() => {
    if (!clientId) return
    let active = true
    const parent = holder.current
    loadGoogleIdentity().then(
      (google) => {
        if (!active || !parent) return
        google.initialize({
          client_id: clientId,
          callback: (response) => onCredential.current(response.credential),
          ux_mode: 'popup',
          context: mode === 'signup' ? 'signup' : 'signin',
        })
        parent.replaceChildren()
        google.renderButton(parent, {
          type: 'standard',
          theme: 'outline',
          size: 'large',
          text: mode === 'signup' ? 'signup_with' : 'signin_with',
          shape: 'rectangular',
        })
        setUnavailable(false)
      },
      () => {
        if (active) setUnavailable(true)
      },
    )
    return () => {
      active = false
      parent?.replaceChildren()
    }
  }, [clientId, mode])

  if (!clientId) return null
  return (
    <section className="pf-stack" aria-label="Sign in with Google">
      <p className="pf-field__hint">or</p>
      <div ref={holder} data-testid="google-signin" hidden={busy} />
      {busy && <Spinner label="Signing in with Google" />}
      {unavailable && <p className="pf-field__hint">Google sign-in is not available right now; use your email and password.</p>}
      {error !== null && <ProblemMessage error={error} />}
    </section>
  )
}
