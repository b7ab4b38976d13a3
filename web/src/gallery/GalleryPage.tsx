/**
 * PLACEHOLDER for the client gallery at `/g/:token` (rendered lazily by src/app/AppRoutes.tsx;
 * no sign-in: the share token authorises every `/api/share/{share_token}/...` call).
 */
import { useQuery } from '@tanstack/react-query'
import { useParams } from 'react-router'
import { api, call } from '../api/client'
import { keys } from '../api/hooks'
import { ApiProblem } from '../api/problem'
import { ProblemMessage, Spinner } from '../ui'

export default function GalleryPage() {
  const { token = '' } = useParams()
  const share = useQuery({
    queryKey: keys.share(token),
    queryFn: () => call(api.GET('/api/share/{share_token}', { params: { path: { share_token: token } } })),
  })
  if (share.isPending) {
    return (
      <main className="pf-page">
        <Spinner label="Loading the gallery" />
      </main>
    )
  }
  if (share.error) {
    return (
      <main className="pf-narrow pf-stack">
        <h1>{galleryTrouble(share.error)}</h1>
        <ProblemMessage error={share.error} />
        <p>Ask your photographer for a new link.</p>
      </main>
    )
  }
  return (
    <main className="pf-page pf-stack">
      <h1>{share.data.album.title}</h1>
      <p>
        {share.data.album.photo_count} photos · {share.data.album.selection_count} selected
        {share.data.album.selection_limit !== null && ` of ${share.data.album.selection_limit}`}
      </p>
    </main>
  )
}

/** The heading for a link that does not open: not found, expired or archived. */
function galleryTrouble(error: unknown): string {
  if (!(error instanceof ApiProblem)) return 'The gallery could not be loaded'
  if (error.status === 404) return 'Gallery not found'
  if (error.kind === 'share-expired') return 'This gallery link has expired'
  if (error.kind === 'share-archived') return 'This gallery has been archived'
  return 'The gallery could not be loaded'
}
