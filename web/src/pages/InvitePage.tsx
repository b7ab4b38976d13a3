import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Link, useNavigate, useParams } from 'react-router'
import { api, call } from '../api/client'
import { keys } from '../api/hooks'
import { useAuth } from '../auth/context'
import { signInPath } from '../auth/next'
import { Button, ProblemMessage } from '../ui'

/** `/invite/:token`, the link in an invitation mail: accept it (signing in or up first). */
export function InvitePage() {
  const { token = '' } = useParams()
  const { signedIn } = useAuth()
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const accept = useMutation({
    mutationFn: () => call(api.POST('/api/invitations/{token}/accept', { params: { path: { token } } })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: keys.me })
      navigate('/app')
    },
  })
  const here = `/invite/${encodeURIComponent(token)}`
  return (
    <main className="pf-narrow pf-stack">
      <h1>You are invited to a PhotoFlow studio</h1>
      {signedIn ? (
        <>
          <p>Accept to join the studio with the role you were invited for.</p>
          {accept.error && <ProblemMessage error={accept.error} />}
          <Button busy={accept.isPending} onClick={() => accept.mutate()}>
            Accept the invitation
          </Button>
        </>
      ) : (
        <>
          <p>Sign in, or create an account with the address the invitation was sent to; you come back here after.</p>
          <p>
            <Link className="pf-button pf-button--primary" to={signInPath(here, 'signup')}>
              Sign up
            </Link>{' '}
            <Link className="pf-button pf-button--secondary" to={signInPath(here)}>
              Sign in
            </Link>
          </p>
        </>
      )}
    </main>
  )
}
