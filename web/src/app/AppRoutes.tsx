/**
 * The app's only route table. The portal and the gallery are lazy chunks that own everything
 * below their path, so their authors never edit this file:
 * - `/app/*` (signed in) renders `portal/PortalRoutes.tsx`, which declares its own
 *   `<Routes>` relative to `/app` (`albums/:albumId` is `/app/albums/:albumId`);
 * - `/g/:token` renders `gallery/GalleryPage.tsx` (read the token with `useParams()`).
 */
import { lazy, Suspense, type ReactNode } from 'react'
import { Route, Routes } from 'react-router'
import { RequireAuth } from '../auth/RequireAuth'
import { SignInPage, SignUpPage } from '../pages/AuthForms'
import { InvitePage } from '../pages/InvitePage'
import { NotFoundPage } from '../pages/NotFoundPage'
import { ErrorBoundary, Spinner } from '../ui'

const PortalRoutes = lazy(() => import('../portal/PortalRoutes'))
const GalleryPage = lazy(() => import('../gallery/GalleryPage'))

function Chunk({ label, children }: { label: string; children: ReactNode }) {
  return (
    <ErrorBoundary>
      <Suspense fallback={<main className="pf-page"><Spinner label={label} /></main>}>{children}</Suspense>
    </ErrorBoundary>
  )
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/app/signin" element={<SignInPage />} />
      <Route path="/app/signup" element={<SignUpPage />} />
      <Route
        path="/app/*"
        element={
          <RequireAuth>
            <Chunk label="Loading your studio">
              <PortalRoutes />
            </Chunk>
          </RequireAuth>
        }
      />
      <Route
        path="/g/:token"
        element={
          <Chunk label="Loading the gallery">
            <GalleryPage />
          </Chunk>
        }
      />
      <Route path="/invite/:token" element={<InvitePage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  )
}
