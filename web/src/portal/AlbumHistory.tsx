import { useInfiniteQuery, useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query'
import type { Schemas } from '../api/client'
import { api, call } from '../api/client'
import { Button, ProblemMessage, Spinner } from '../ui'
import { consistency } from '../api/writes'
import { formatTime, pk } from './queries'

export function AlbumComments({ albumId }: { albumId: string }) {
  const comments = useInfiniteQuery({
    queryKey: pk.albumComments(albumId),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      call(api.GET('/api/albums/{album_id}/comments', { params: { path: { album_id: albumId }, query: { limit: 200, cursor: pageParam }, header: consistency(albumId) } })),
    getNextPageParam: (last) => last.next_cursor,
  })
  const items = comments.data?.pages.flatMap((p) => p.items) ?? []
  // the photos' names, from the grid's pages already loaded
  const photos = useQueryClient().getQueryData<InfiniteData<{ items: Schemas['AlbumPhoto'][] }>>(pk.albumPhotos(albumId))
  const names = new Map(photos?.pages.flatMap((p) => p.items.map((i) => [i.photo_id, i.name] as const)) ?? [])
  return (
    <section className="pf-stack-sm" aria-labelledby="comments-title">
      <h2 id="comments-title">Comments</h2>
      {comments.isPending && <Spinner label="Loading the comments" />}
      {comments.error && <ProblemMessage error={comments.error} />}
      {comments.data && items.length === 0 && <p>No comments yet.</p>}
      <ul className="pf-timeline">
        {items.map((c) => (
          <li key={c.comment_id}>
            <strong>{c.author}</strong> <span className="pf-muted">on {names.get(c.photo_id) ?? `photo ${c.photo_id.slice(0, 8)}`} · {formatTime(c.created_at)}</span>
            <p className="pf-comment">{c.text}</p>
          </li>
        ))}
      </ul>
      {comments.hasNextPage && (
        <Button variant="secondary" busy={comments.isFetchingNextPage} onClick={() => void comments.fetchNextPage()}>
          Older comments
        </Button>
      )}
    </section>
  )
}

function describe(details: Record<string, unknown>): string {
  return Object.entries(details)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' · ')
}

export function AlbumActivity({ albumId }: { albumId: string }) {
  const activity = useInfiniteQuery({
    queryKey: pk.albumActivity(albumId),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      call(api.GET('/api/albums/{album_id}/activity', { params: { path: { album_id: albumId }, query: { limit: 200, cursor: pageParam }, header: consistency(albumId) } })),
    getNextPageParam: (last) => last.next_cursor,
  })
  const items = activity.data?.pages.flatMap((p) => p.items) ?? []
  return (
    <section className="pf-stack-sm" aria-labelledby="activity-title">
      <h2 id="activity-title">Activity</h2>
      {activity.isPending && <Spinner label="Loading the activity" />}
      {activity.error && <ProblemMessage error={activity.error} />}
      {activity.data && items.length === 0 && <p>Nothing happened yet.</p>}
      <ol className="pf-timeline">
        {items.map((e) => (
          <li key={e.event_id}>
            <strong>{e.activity.replace(/_/g, ' ')}</strong>{' '}
            <span className="pf-muted">
              {e.actor ? `by ${e.actor} · ` : ''}
              <time dateTime={e.occurred_at}>{formatTime(e.occurred_at)}</time>
            </span>
            {Object.keys(e.details).length > 0 && <p className="pf-muted pf-small">{describe(e.details)}</p>}
          </li>
        ))}
      </ol>
      {activity.hasNextPage && (
        <Button variant="secondary" busy={activity.isFetchingNextPage} onClick={() => void activity.fetchNextPage()}>
          More
        </Button>
      )}
    </section>
  )
}

export function AlbumAudit({ albumId }: { albumId: string }) {
  const events = useInfiniteQuery({
    queryKey: pk.albumAudit(albumId),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      call(
        api.GET('/api/audit/{stream}/{aggregate_id}/events', {
          params: { path: { stream: 'albums', aggregate_id: albumId }, query: { limit: 200, cursor: pageParam } },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor,
  })
  const verify = useQuery({
    queryKey: ['album-verify', albumId],
    queryFn: () => call(api.GET('/api/audit/{stream}/{aggregate_id}/verify', { params: { path: { stream: 'albums', aggregate_id: albumId } } })),
    enabled: false,
  })
  const items = events.data?.pages.flatMap((p) => p.items) ?? []
  return (
    <section className="pf-stack-sm" aria-labelledby="audit-title">
      <div className="pf-heading-row">
        <h2 id="audit-title">Audit history</h2>
        <Button variant="secondary" busy={verify.isFetching} onClick={() => void verify.refetch()}>
          Verify the chain
        </Button>
      </div>
      {verify.data && (
        <p role="status" className={verify.data.ok ? 'pf-ok-text' : 'pf-error-text'}>
          {verify.data.ok ? `The hash chain is whole: ${verify.data.length} events.` : `The chain is broken at version ${verify.data.broken_at}.`}
        </p>
      )}
      {verify.error && <ProblemMessage error={verify.error} />}
      {events.isPending && <Spinner label="Loading the audit history" />}
      {events.error && <ProblemMessage error={events.error} />}
      <ol className="pf-timeline">
        {items.map((e) => (
          <li key={e.id}>
            <strong>
              v{e.version} {e.type}
            </strong>{' '}
            <span className="pf-muted">
              {e.actor ? `by ${e.actor} · ` : ''}
              <time dateTime={e.occurred_at}>{formatTime(e.occurred_at)}</time>
            </span>
            <details>
              <summary>Data</summary>
              <pre className="pf-pre">{JSON.stringify(e.data, null, 2)}</pre>
            </details>
          </li>
        ))}
      </ol>
      {events.hasNextPage && (
        <Button variant="secondary" busy={events.isFetchingNextPage} onClick={() => void events.fetchNextPage()}>
          Later events
        </Button>
      )}
    </section>
  )
}
