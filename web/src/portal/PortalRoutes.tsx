/**
 * PLACEHOLDER for the studio portal: everything under `/app/` once signed in (the router in
 * src/app/AppRoutes.tsx renders this lazily; sign-in and sign-up stay there). Declare the
 * portal's pages here as `<Route>`s RELATIVE to `/app`, e.g. `albums/:albumId` for
 * `/app/albums/:albumId` (the path the album mails link to).
 */
import { Link, Route, Routes } from 'react-router'
import { useMe } from '../api/hooks'
import { useAuth } from '../auth/context'
import { Button, ProblemMessage, Spinner } from '../ui'

export default function PortalRoutes() {
  return (
    <>
      <PortalHeader />
      <Routes>
        <Route index element={<StudiosHome />} />
        <Route
          path="*"
          element={
            <main className="pf-page" role="alert">
              <h1>Page not found</h1>
              <p>
                This studio page does not exist (yet). <Link to="/app">Back to your studios</Link>
              </p>
            </main>
          }
        />
      </Routes>
    </>
  )
}

function PortalHeader() {
  const { signOut } = useAuth()
  const me = useMe()
  return (
    <header className="pf-topbar">
      <Link className="pf-brand" to="/app">
        PhotoFlow
      </Link>
      <span>
        {me.data && <span className="pf-who">{me.data.name} </span>}
        <Button variant="secondary" onClick={() => void signOut()}>
          Sign out
        </Button>
      </span>
    </header>
  )
}

function StudiosHome() {
  const me = useMe()
  return (
    <main className="pf-page pf-stack">
      <h1>Your studios</h1>
      {me.isPending && <Spinner label="Loading your studios" />}
      {me.error && (
        <ProblemMessage error={me.error}>
          <Button variant="secondary" onClick={() => void me.refetch()}>
            Try again
          </Button>
        </ProblemMessage>
      )}
      {me.data &&
        (me.data.orgs.length === 0 ? (
          <p>Signed in as {me.data.email}. You are not in a studio yet: create one, or accept an invitation.</p>
        ) : (
          <ul>
            {me.data.orgs.map((org) => (
              <li key={org.org_id}>
                {org.name} <small>({org.role})</small>
              </li>
            ))}
          </ul>
        ))}
    </main>
  )
}
