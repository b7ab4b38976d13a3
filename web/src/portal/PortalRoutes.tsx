/**
 * The studio portal: everything under `/app/` once signed in (rendered lazily by
 * src/app/AppRoutes.tsx). Routes are relative to `/app`; `albums/:albumId` is the album page the
 * album mails link to. The current studio is chosen in the header (src/portal/Layout.tsx).
 */
import { Link, Navigate, Route, Routes } from 'react-router'
import { useMe } from '../api/hooks'
import { Button, ErrorBoundary, ProblemMessage, Spinner } from '../ui'
import { AlbumPage } from './AlbumPage'
import { AlbumsPage } from './AlbumsPage'
import { FolderPage } from './FolderPage'
import { FoldersPage } from './FoldersPage'
import { CreateStudioForm, PortalShell } from './Layout'
import { MembersPage } from './MembersPage'
import { SettingsPage } from './SettingsPage'
import { useStudio } from './studio'
import './portal.css'

export default function PortalRoutes() {
  return (
    <PortalShell>
      <ErrorBoundary>
        <Routes>
          <Route index element={<StudiosHome />} />
          <Route path="albums" element={<NeedsStudio><AlbumsPage /></NeedsStudio>} />
          <Route path="albums/:albumId" element={<AlbumPage />} />
          <Route path="folders" element={<NeedsStudio><FoldersPage /></NeedsStudio>} />
          <Route path="folders/:folderId" element={<FolderPage />} />
          <Route path="members" element={<NeedsStudio><MembersPage /></NeedsStudio>} />
          <Route path="settings" element={<NeedsStudio><SettingsPage /></NeedsStudio>} />
          <Route
            path="*"
            element={
              <main className="pf-page" role="alert">
                <h1>Page not found</h1>
                <p>
                  This studio page does not exist. <Link to="/app">Back to your studios</Link>
                </p>
              </main>
            }
          />
        </Routes>
      </ErrorBoundary>
    </PortalShell>
  )
}

/** Pages of one studio: wait for the user's studios; with none, offer to create one. */
function NeedsStudio({ children }: { children: React.ReactNode }) {
  const me = useMe()
  const { studio } = useStudio()
  if (me.isPending) return <main className="pf-page"><Spinner label="Loading your studios" /></main>
  if (me.error) return <main className="pf-page"><ProblemMessage error={me.error} /></main>
  if (!studio) return <Navigate to="/app" replace />
  return <>{children}</>
}

function StudiosHome() {
  const me = useMe()
  const { choose } = useStudio()
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
      {me.data && (
        <>
          <p>
            Signed in as {me.data.email}.
            {me.data.orgs.length === 0 && ' You are not in a studio yet: create one, or accept an invitation.'}
          </p>
          {me.data.orgs.length > 0 && (
            <ul className="pf-cards">
              {me.data.orgs.map((org) => (
                <li key={org.org_id} className="pf-card">
                  <Link to="/app/albums" onClick={() => choose(org.org_id)} className="pf-card__title">
                    {org.name}
                  </Link>
                  <span className="pf-badge">{org.role}</span>
                </li>
              ))}
            </ul>
          )}
          <section className="pf-panel" aria-labelledby="new-studio">
            <h2 id="new-studio">Create a studio</h2>
            <CreateStudioForm />
          </section>
        </>
      )}
    </main>
  )
}
