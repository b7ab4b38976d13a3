import type { ReactNode } from 'react'
import { Navigate, useLocation } from 'react-router'
import { useAuth } from './context'
import { signInPath } from './next'

/** Renders its children when signed in; otherwise sends to sign-in, which comes back here after. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { signedIn } = useAuth()
  const location = useLocation()
  if (!signedIn) return <Navigate to={signInPath(location.pathname + location.search)} replace />
  return children
}
