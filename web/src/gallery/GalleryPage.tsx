/**
 * The client gallery at `/g/:token` (rendered lazily by src/app/AppRoutes.tsx; no sign-in: the
 * share token authorises every `/api/share/{share_token}/...` call). Phone first.
 *
 * 1. The album header loads (an expired, archived or unknown link says so).
 * 2. A guest name is asked once per link (localStorage), then sent as `X-Guest`.
 * 3. The photos load page after page into a virtualised grid; the lightbox picks, rates and
 *    comments with keys; the live stream keeps everything current.
 */
import * as ToggleGroup from '@radix-ui/react-toggle-group'
import { useQueryClient } from '@tanstack/react-query'
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react'
import { useParams } from 'react-router'
import { ApiProblem } from '../api/problem'
import { Button, Field, ProblemMessage, Spinner } from '../ui'
import { useGalleryActions } from './actions'
import { AlbumActions } from './AlbumActions'
import { isFinal, photosOptions, useAlbumHeader, usePhotos, type Photo, type SharedAlbum } from './data'
import { Grid } from './Grid'
import { guestNameProblem, loadGuest, saveGuest } from './guest'
import { Lightbox } from './Lightbox'
import { useLiveUpdates } from './live'
import './gallery.css'

export default function GalleryPage() {
  const { token = '' } = useParams()
  const [guest, setGuest] = useState<string | null>(() => loadGuest(token))
  const [renaming, setRenaming] = useState(false)
  const header = useAlbumHeader(token, guest)
  const client = useQueryClient()
  useEffect(() => {
    // the first page of photos loads beside the header, not after it
    if (guest) void client.prefetchInfiniteQuery(photosOptions(token, guest))
  }, [client, token, guest])

  if (header.isPending) {
    return (
      <main className="g-page">
        <Spinner label="Loading the gallery" />
      </main>
    )
  }
  // a link that stops opening (expired, archived, revoked) says so even while the page is open;
  // a passing network failure on a later read keeps the gallery on screen
  if (header.error && (!header.data || isFinal(header.error))) {
    return <Trouble error={header.error} retry={() => void header.refetch()} />
  }
  if (!header.data) return null

  if (!guest || renaming) {
    return (
      <GuestPrompt
        album={header.data}
        initial={guest ?? ''}
        onName={(name) => {
          saveGuest(token, name)
          setGuest(name)
          setRenaming(false)
        }}
      />
    )
  }
  return <Gallery key={guest} token={token} guest={guest} album={header.data} onRename={() => setRenaming(true)} />
}

/** The page for a link that does not open: expired, archived, unknown, or the server's trouble. */
function Trouble({ error, retry }: { error: unknown; retry: () => void }) {
  const problem = error instanceof ApiProblem ? error : null
  let heading = 'The gallery could not be loaded'
  let advice = 'Check your connection and try again.'
  if (problem?.kind === 'share-expired') {
    heading = 'This link expired'
    advice = 'Gallery links last for a limited time. Ask your photographer for a new link.'
  } else if (problem?.kind === 'share-archived') {
    heading = 'This gallery has been archived'
    advice = 'Your photographer archived this album. Ask them if you need it again.'
  } else if (problem?.status === 404) {
    heading = 'Gallery not found'
    advice = 'This link does not open any gallery: it may have been replaced or mistyped. Ask your photographer for the current link.'
  }
  const final = !!problem && problem.status >= 400 && problem.status < 500
  return (
    <main className="pf-narrow pf-stack g-trouble" data-testid="gallery-trouble">
      <h1>{heading}</h1>
      <p role="alert" data-problem-type={problem?.kind}>
        {advice}
      </p>
      {!final && (
        <ProblemMessage error={error}>
          <Button variant="secondary" onClick={retry}>
            Try again
          </Button>
        </ProblemMessage>
      )}
    </main>
  )
}

function GuestPrompt({ album, initial, onName }: { album: SharedAlbum; initial: string; onName: (name: string) => void }) {
  const [name, setName] = useState(initial)
  const [error, setError] = useState<string | undefined>()
  function submit(event: FormEvent) {
    event.preventDefault()
    const problem = guestNameProblem(name)
    if (problem) setError(problem)
    else onName(name.trim())
  }
  return (
    <main className="pf-narrow">
      <form className="pf-stack" onSubmit={submit} aria-labelledby="guest-heading">
        <p className="g-eyebrow">Your photographer shared a gallery with you</p>
        <h1 id="guest-heading">{album.title}</h1>
        <p>
          {album.photo_count} photos. Tell us your name so your picks, stars and comments are yours: others with this
          link keep their own.
        </p>
        <Field label="Your name" name="guest" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} error={error} autoFocus />
        <Button type="submit">Open the gallery</Button>
      </form>
    </main>
  )
}

type Filter = 'all' | 'picked' | 'rated' | 'commented'

const STATUS_TEXT: Record<string, string> = {
  shared: 'Pick your favourites, then send your selection to your photographer.',
  selection_submitted: 'Your selection was sent to your photographer. You will hear from them when the edits are ready.',
  editing: 'Your photographer is editing your selection.',
  delivered: 'Your photos are ready. Approve them, or ask for changes.',
  changes_requested: 'You asked for changes: your photographer is on it.',
  approved: 'You approved the photos. Thank you!',
}

function Gallery({ token, guest, album, onRename }: { token: string; guest: string; album: SharedAlbum; onRename: () => void }) {
  const photos = usePhotos(token, guest)
  const actions = useGalleryActions(token, guest)
  const live = useLiveUpdates(token, guest, actions, true)
  const [filter, setFilter] = useState<Filter>('all')
  const [lightbox, setLightbox] = useState<{ ids: string[]; index: number } | null>(null)

  const all = useMemo(() => photos.data?.pages.flatMap((page) => page.photos.items) ?? [], [photos.data])
  // The listing names who picked each photo: this guest's earlier picks (another device, a
  // cleared browser) show as theirs, not as another guest's.
  const { setOwnPick } = actions
  useEffect(() => {
    for (const photo of all) if (photo.picked_by.includes(guest)) setOwnPick(photo.photo_id, true)
  }, [all, guest, setOwnPick])
  const counts = useMemo(() => {
    let picked = 0
    let rated = 0
    let commented = 0
    for (const p of all) {
      if (p.selected) picked += 1
      if ((p.rating ?? 0) > 0 || p.color) rated += 1
      if (p.comment_count > 0) commented += 1
    }
    return { all: all.length, picked, rated, commented }
  }, [all])
  const shown = useMemo(() => {
    if (filter === 'picked') return all.filter((p) => p.selected)
    if (filter === 'rated') return all.filter((p) => (p.rating ?? 0) > 0 || !!p.color)
    if (filter === 'commented') return all.filter((p) => p.comment_count > 0)
    return all
  }, [all, filter])

  const allowed = new Set(album.allowed_commands)
  const canSelect = allowed.has('select')
  const canRate = allowed.has('rate')
  const canComment = allowed.has('comment')

  const { togglePick, rate } = actions
  const onRate = useCallback((photo: Photo, rating: number) => void rate(photo, rating, (photo.color as never) ?? null), [rate])
  const onPick = useCallback((photo: Photo) => void togglePick(photo), [togglePick])
  // stable for the tiles (they are memoised): reads the list shown when it is called
  const shownRef = useRef(shown)
  useEffect(() => {
    shownRef.current = shown
  }, [shown])
  const onOpen = useCallback((photoId: string) => {
    const ids = shownRef.current.map((p) => p.photo_id)
    setLightbox({ ids, index: Math.max(0, ids.indexOf(photoId)) })
  }, [])

  const currentId = lightbox?.ids[lightbox.index]
  const current = useMemo(() => (currentId ? all.find((p) => p.photo_id === currentId) ?? null : null), [all, currentId])
  const limit = album.selection_limit
  const atLimit = limit !== null && album.selection_count >= limit

  return (
    <div className="g-page">
      <header className="g-head">
        <div className="g-head__top">
          <div>
            <p className="g-eyebrow">Gallery for {album.client.name ?? 'you'}</p>
            <h1 className="g-title">{album.title}</h1>
          </div>
          <p className="g-guest">
            <span className={`g-live g-live--${live}`} title={live === 'live' ? 'Live updates on' : 'Reconnecting…'}>
              <span className="g-sr">{live === 'live' ? 'Live updates on' : 'Live updates reconnecting'}</span>
            </span>
            {guest}{' '}
            <button type="button" className="g-linkbutton" onClick={onRename}>
              Not you?
            </button>
          </p>
        </div>
        <p className="g-status">{STATUS_TEXT[album.status] ?? ''}</p>
        <p className="g-counter" data-testid="selection-counter" aria-live="polite">
          <strong>
            {album.selection_count}
            {limit !== null ? ` of ${limit}` : ''} picked
          </strong>
          {' · '}
          {album.photo_count} photos
          {album.comment_count > 0 && ` · ${album.comment_count} comment${album.comment_count === 1 ? '' : 's'}`}
        </p>
        {atLimit && canSelect && (
          <p className="g-banner" data-testid="limit-reached">
            You have picked {limit} of {limit}: that is the limit. Unpick a photo to choose another.
          </p>
        )}
        {actions.notice && (
          <div role="alert" className={actions.notice.kind === 'limit' ? 'g-banner g-banner--alert' : 'g-banner g-banner--error'} data-testid="gallery-notice">
            <span>{actions.notice.text}</span>
            <button type="button" className="g-linkbutton" onClick={actions.clearNotice}>
              Dismiss
            </button>
          </div>
        )}
        <AlbumActions token={token} guest={guest} album={album} />
        <ToggleGroup.Root
          type="single"
          className="g-filters"
          aria-label="Show"
          value={filter}
          onValueChange={(value) => value && setFilter(value as Filter)}
        >
          {(['all', 'picked', 'rated', 'commented'] as const).map((f) => (
            <ToggleGroup.Item key={f} value={f} className="g-filter">
              {f === 'all' ? 'All' : f.charAt(0).toUpperCase() + f.slice(1)} <span className="g-filter__count">{counts[f]}</span>
            </ToggleGroup.Item>
          ))}
        </ToggleGroup.Root>
      </header>

      {photos.isPending && <Spinner label="Loading the photos" />}
      {photos.error && (
        <ProblemMessage error={photos.error}>
          <Button variant="secondary" onClick={() => void photos.refetch()}>
            Try again
          </Button>
        </ProblemMessage>
      )}
      {photos.data && (
        <>
          {shown.length === 0 ? (
            <p className="g-empty">{filter === 'all' ? 'No photos in this gallery yet.' : `No ${filter} photos yet.`}</p>
          ) : (
            <Grid
              photos={shown}
              ownPicks={actions.ownPicks}
              canSelect={canSelect}
              canRate={canRate}
              onOpen={onOpen}
              onPick={onPick}
              onRate={onRate}
            />
          )}
          {photos.hasNextPage && (
            <p className="g-more" role="status">
              <Spinner inline label="" /> Loaded {all.length} of {album.photo_count} photos…
            </p>
          )}
        </>
      )}

      <Lightbox
        token={token}
        guest={guest}
        photo={current}
        position={(lightbox?.index ?? 0) + 1}
        total={lightbox?.ids.length ?? 0}
        mine={current ? actions.ownPicks.has(current.photo_id) : false}
        canSelect={canSelect}
        canRate={canRate}
        canComment={canComment}
        allowDownload={album.share.allow_download}
        onClose={() => setLightbox(null)}
        onMove={(step) =>
          setLightbox((lb) => (lb ? { ...lb, index: Math.min(lb.ids.length - 1, Math.max(0, lb.index + step)) } : lb))
        }
        onPick={onPick}
        onRate={(photo, rating, color) => void rate(photo, rating, color)}
        onComment={actions.comment}
      />
    </div>
  )
}
