/**
 * The album's photo grid: every photo of the album (pages of 500, fetched as the grid nears
 * the end), virtualised by rows with TanStack Virtual so only the tiles on screen are mounted,
 * and only those load their thumbnails (as blobs, see ./images.tsx).
 */
import { useInfiniteQuery, useMutation, useQueryClient, type InfiniteData } from '@tanstack/react-query'
import { useVirtualizer } from '@tanstack/react-virtual'
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react'
import { api, call, type Schemas } from '../api/client'
import { Button, ProblemMessage, Spinner } from '../ui'
import { consistency, rememberWrite } from '../api/writes'
import { MemberImage } from './images'
import { pk } from './queries'

type Album = Schemas['AlbumView']
type Photo = Schemas['AlbumPhoto']
type Page = { items: Photo[]; next_cursor: string | null }

const PROC = ['pending', 'editing', 'edited', 'rejected'] as const
const FILTERS = [
  { value: 'all', label: 'All' },
  { value: 'picked', label: 'Picked' },
  { value: 'rated', label: 'Rated' },
  { value: 'commented', label: 'Commented' },
] as const
type Filter = (typeof FILTERS)[number]['value']

const MIN_TILE = 150
const GAP = 8
const INFO_HEIGHT = 120

/** One filter's photos, filtered by the platform (`?show=`), so a 15,000-photo album's picks
 * are all there without loading every page; the key extends the album's photos key, so an
 * invalidation of the album's photos reaches every filter. */
function useAlbumPhotos(albumId: string, show: Filter) {
  return useInfiniteQuery({
    queryKey: [...pk.albumPhotos(albumId), show],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      call(
        api.GET('/api/albums/{album_id}/photos', {
          params: { path: { album_id: albumId }, query: { limit: 500, cursor: pageParam, show }, header: consistency(albumId) },
        }),
      ) as Promise<Page>,
    getNextPageParam: (last) => last.next_cursor,
  })
}

function useWidth(ref: React.RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0)
  useLayoutEffect(() => {
    const el = ref.current
    if (!el) return
    // the content box: clientWidth less the padding
    const measure = () => {
      const style = getComputedStyle(el)
      setWidth(el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight))
    }
    measure()
    const observer = new ResizeObserver(measure)
    observer.observe(el)
    return () => observer.disconnect()
  }, [ref])
  return width
}

/** Reads the photos again whenever the album shown gets newer. The album row and its photos are
 * written by one projection in one transaction, so photos read after a newer album row are at
 * least as new; a live event's re-read of the photos could land before the projection had
 * applied the event, and the catch-up re-reads only the album (CI once showed "Ready" above
 * "0 of 6 photos shown"). */
function usePhotosFollowTheAlbum(album: Album): void {
  const client = useQueryClient()
  const readFor = useRef(album.version)
  useEffect(() => {
    if (readFor.current === album.version) return
    readFor.current = album.version
    void client.invalidateQueries({ queryKey: pk.albumPhotos(album.album_id) })
  }, [album.album_id, album.version, client])
}

export function PhotoGrid({ album, canSetProc }: { album: Album; canSetProc: boolean }) {
  const [filter, setFilter] = useState<Filter>('all')
  const photos = useAlbumPhotos(album.album_id, filter)
  usePhotosFollowTheAlbum(album)
  const all = useMemo(() => photos.data?.pages.flatMap((p) => p.items) ?? [], [photos.data])
  const shown = useMemo(
    () =>
      all.filter((p) =>
        filter === 'picked'
          ? p.selected
          : filter === 'rated'
            ? (p.rating ?? 0) > 0 || Object.keys(p.ratings).length > 0
            : filter === 'commented'
              ? p.comment_count > 0
              : true,
      ),
    [all, filter],
  )
  const picked = album.selection_count
  const scroller = useRef<HTMLDivElement>(null)
  const width = useWidth(scroller)
  const columns = Math.max(2, Math.floor((width + GAP) / (MIN_TILE + GAP)))
  const tile = width > 0 ? Math.floor((width - GAP * (columns - 1)) / columns) : MIN_TILE
  const rows = Math.ceil(shown.length / columns)
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer re-renders this component itself
  const virtualizer = useVirtualizer({
    count: rows,
    getScrollElement: () => scroller.current,
    estimateSize: () => tile + INFO_HEIGHT + GAP,
    overscan: 3,
  })
  useEffect(() => virtualizer.measure(), [tile, virtualizer])
  const items = virtualizer.getVirtualItems()
  const lastRow = items.at(-1)?.index ?? 0
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = photos
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && lastRow >= rows - 4) void fetchNextPage()
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, lastRow, rows])

  return (
    <section className="pf-stack-sm" aria-labelledby="grid-title">
      <div className="pf-heading-row">
        <h2 id="grid-title">Photos</h2>
        <div role="group" aria-label="Show" className="pf-segmented">
          {FILTERS.map((f) => (
            <button key={f.value} type="button" aria-pressed={filter === f.value} className="pf-segmented__item" onClick={() => setFilter(f.value)}>
              {f.label}
              {f.value === 'picked' ? ` (${picked})` : ''}
            </button>
          ))}
        </div>
      </div>
      {photos.isPending && <Spinner label="Loading the photos" />}
      {photos.error && (
        <ProblemMessage error={photos.error}>
          <Button variant="secondary" onClick={() => void photos.refetch()}>
            Try again
          </Button>
        </ProblemMessage>
      )}
      {photos.data && shown.length === 0 && (
        <p>{all.length === 0 && filter === 'all' ? (album.status === 'syncing' ? 'The photos are being synced…' : 'No photos in this album yet: sync it from its folder.') : 'No photo matches this filter.'}</p>
      )}
      <p className="pf-muted" aria-live="polite">
        {photos.data ? `${shown.length} of ${album.photo_count} photos shown${hasNextPage ? ' (loading more as you scroll)' : ''}.` : ''}
      </p>
      <div ref={scroller} className="pf-grid-scroller" data-testid="photo-grid" tabIndex={-1}>
        <div role="list" aria-label="Photos" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((row) => (
            <div
              key={row.key}
              className="pf-grid-row"
              style={{ transform: `translateY(${row.start}px)`, height: tile + INFO_HEIGHT, gridTemplateColumns: `repeat(${columns}, ${tile}px)`, gap: GAP }}
            >
              {shown.slice(row.index * columns, row.index * columns + columns).map((p) => (
                <PhotoTile key={p.photo_id} photo={p} album={album} canSetProc={canSetProc} size={tile} />
              ))}
            </div>
          ))}
        </div>
      </div>
    </section>
  )
}

function Stars({ rating }: { rating: number | null }) {
  if (!rating) return null
  return (
    <span className="pf-stars" aria-label={`rated ${rating} of 5`}>
      {'★'.repeat(rating)}
    </span>
  )
}

function PhotoTile({ photo, album, canSetProc, size }: { photo: Photo; album: Album; canSetProc: boolean; size: number }) {
  const client = useQueryClient()
  const guests = Object.entries(photo.ratings)
  const proc = useMutation({
    mutationFn: (status: string) =>
      call(
        api.POST('/api/albums/{album_id}/photos/{photo_id}/proc', {
          params: { path: { album_id: album.album_id, photo_id: photo.photo_id } },
          body: { status: status as Schemas['ProcStatus']['status'] },
        }),
      ),
    onMutate: (status) => {
      client.setQueryData<InfiniteData<Page>>(pk.albumPhotos(album.album_id), (old) =>
        old
          ? { ...old, pages: old.pages.map((pg) => ({ ...pg, items: pg.items.map((p) => (p.photo_id === photo.photo_id ? { ...p, proc_status: status } : p)) })) }
          : old,
      )
    },
    onSuccess: (w) => {
      rememberWrite(album.album_id, w.consistency_token)
      void client.invalidateQueries({ queryKey: pk.album(album.album_id) })
    },
    onError: () => void client.invalidateQueries({ queryKey: pk.albumPhotos(album.album_id) }),
  })
  const thumb = photo.images.thumbnail
  return (
    <div role="listitem" className={`pf-tile${photo.selected ? ' pf-tile--picked' : ''}`} aria-label={`${photo.name}${photo.selected ? ', picked' : ''}`}>
      <div className="pf-tile__frame" style={{ height: size }}>
        <MemberImage url={thumb?.url} alt={photo.name} width={thumb?.width} height={thumb?.height} />
        {photo.selected && <span className="pf-tile__pick">Picked</span>}
        {photo.color && <span className={`pf-tile__color pf-color--${photo.color}`} title={`Colour ${photo.color}`} aria-label={`colour ${photo.color}`} />}
      </div>
      <div className="pf-tile__info">
        <span className="pf-tile__name" title={photo.name}>
          {photo.name}
        </span>
        <span className="pf-tile__meta">
          <Stars rating={photo.rating} />
          {photo.comment_count > 0 && <span>💬 {photo.comment_count}</span>}
        </span>
        {guests.length > 0 && (
          <span className="pf-tile__guests" title={guests.map(([g, r]) => `${g}: ${r.rating}★${r.color ? ` ${r.color}` : ''}`).join('\n')}>
            {guests
              .slice(0, 2)
              .map(([g, r]) => `${g} ${r.rating}★${r.color ? ` ${r.color}` : ''}`)
              .join(' · ')}
            {guests.length > 2 ? ` +${guests.length - 2}` : ''}
          </span>
        )}
        {canSetProc ? (
          <select
            aria-label={`Editing status of ${photo.name}`}
            value={photo.proc_status}
            onChange={(e) => proc.mutate(e.target.value)}
            className="pf-tile__proc"
            data-proc={photo.proc_status}
          >
            {PROC.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        ) : (
          <span className="pf-tile__proc-text" data-proc={photo.proc_status}>
            {photo.proc_status}
          </span>
        )}
        {proc.error && (
          <span className="pf-error-text" role="alert">
            Not saved
          </span>
        )}
      </div>
    </div>
  )
}
