/**
 * The lightbox (Radix Dialog): the preview, pick/rate/colour with keys, the photo's comments.
 * Keys: ←/→ previous/next, P pick, 1-5 stars, 0 clears the rating, 6 red, 7 yellow, 8 green,
 * 9 blue (the same key again clears the colour), Escape closes.
 */
import * as RadixDialog from '@radix-ui/react-dialog'
import { useState, type FormEvent, type KeyboardEvent } from 'react'
import { ApiProblem } from '../api/problem'
import { Button, ProblemMessage, Spinner } from '../ui'
import { authorName, COLOR_KEYS, COLORS, useComments, type Color, type Comment, type Photo } from './data'
import { Stars } from './Stars'

export interface LightboxProps {
  token: string
  guest: string
  photo: Photo | null
  position: number
  total: number
  mine: boolean
  canSelect: boolean
  canRate: boolean
  canComment: boolean
  allowDownload: boolean
  onClose: () => void
  onMove: (step: -1 | 1) => void
  onPick: (photo: Photo) => void
  onRate: (photo: Photo, rating: number, color: Color | null) => void
  onComment: (photoId: string, text: string) => Promise<void>
}

const KEY_FOR: Partial<Record<Color, string>> = { red: '6', yellow: '7', green: '8', blue: '9' }

export function Lightbox(props: LightboxProps) {
  const { token, guest, photo, position, total, mine, canSelect, canRate, canComment, allowDownload, onClose, onMove, onPick, onRate } = props

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    if (!photo) return
    const target = event.target as HTMLElement
    if (target.closest('textarea, input, select')) return
    if (event.altKey || event.ctrlKey || event.metaKey) return
    const key = event.key
    let handled = true
    if (key === 'ArrowLeft') onMove(-1)
    else if (key === 'ArrowRight') onMove(1)
    else if ((key === 'p' || key === 'P') && canSelect) onPick(photo)
    else if (/^[0-5]$/.test(key) && canRate) onRate(photo, Number(key), (photo.color as Color | null) ?? null)
    else if (COLOR_KEYS[key] && canRate) {
      const color = COLOR_KEYS[key]
      onRate(photo, photo.rating ?? 0, photo.color === color ? null : color)
    } else handled = false
    if (handled) event.preventDefault()
  }

  const image = photo?.images.preview ?? photo?.images.thumbnail ?? null
  const others = photo ? Object.entries(photo.ratings).filter(([, r]) => r.rating > 0 || r.color) : []

  return (
    <RadixDialog.Root open={!!photo} onOpenChange={(open) => !open && onClose()}>
      <RadixDialog.Portal>
        <RadixDialog.Overlay className="g-lightbox__overlay" />
        <RadixDialog.Content className="g-lightbox" onKeyDown={onKeyDown} aria-describedby="g-lightbox-keys" data-testid="lightbox">
          {photo && (
            <>
              <header className="g-lightbox__bar">
                <RadixDialog.Title className="g-lightbox__title">
                  {photo.name} <span className="g-muted-light">({position} of {total})</span>
                </RadixDialog.Title>
                <RadixDialog.Close className="g-lightbox__close" aria-label="Close (Escape)">
                  ×
                </RadixDialog.Close>
              </header>
              <div className="g-lightbox__stage">
                <button type="button" className="g-lightbox__nav g-lightbox__nav--prev" onClick={() => onMove(-1)} aria-label="Previous photo (←)" disabled={position <= 1}>
                  ‹
                </button>
                {image ? (
                  <img key={photo.photo_id} className="g-lightbox__image" src={image.url} width={image.width ?? undefined} height={image.height ?? undefined} alt={photo.name} />
                ) : (
                  <p className="g-lightbox__missing">{photo.images.state === 'failed' ? 'This file has no preview.' : 'The preview is being prepared…'}</p>
                )}
                <button type="button" className="g-lightbox__nav g-lightbox__nav--next" onClick={() => onMove(1)} aria-label="Next photo (→)" disabled={position >= total}>
                  ›
                </button>
              </div>
              <div className="g-lightbox__panel">
                <div className="g-lightbox__controls">
                  <Button
                    variant={mine ? 'primary' : 'secondary'}
                    aria-pressed={mine}
                    disabled={!canSelect}
                    onClick={() => onPick(photo)}
                  >
                    <span aria-hidden="true">{photo.selected ? '♥' : '♡'}</span> {mine ? 'Picked' : 'Pick'} <kbd>P</kbd>
                  </Button>
                  {photo.selected && !mine && <span className="g-muted-light">Picked by another guest</span>}
                  <Stars size="large" value={photo.rating ?? 0} name={photo.name} disabled={!canRate} onRate={(r) => onRate(photo, r, (photo.color as Color | null) ?? null)} />
                  <div className="g-colors" role="group" aria-label={`Colour label: ${photo.color ?? 'none'}`}>
                    {COLORS.map((color) => (
                      <button
                        key={color}
                        type="button"
                        className={`g-color g-dot--${color}`}
                        aria-pressed={photo.color === color}
                        aria-label={`${color}${KEY_FOR[color] ? ` (key ${KEY_FOR[color]})` : ''}`}
                        disabled={!canRate}
                        onClick={() => onRate(photo, photo.rating ?? 0, photo.color === color ? null : color)}
                      >
                        {KEY_FOR[color] ?? ''}
                      </button>
                    ))}
                  </div>
                  {allowDownload && (
                    <a className="g-link-light" href={`/api/share/${encodeURIComponent(token)}/photos/${photo.photo_id}/original`} download={photo.name}>
                      Download original
                    </a>
                  )}
                </div>
                <p id="g-lightbox-keys" className="g-lightbox__keys">
                  Keys: ← → previous/next · P pick · 1–5 stars · 0 clear stars · 6 red · 7 yellow · 8 green · 9 blue (again to clear) · Esc close
                </p>
                {others.length > 0 && (
                  <p className="g-lightbox__others">
                    Ratings:{' '}
                    {others.map(([who, r]) => `${who} ${'★'.repeat(r.rating)}${r.color ? ` ${r.color}` : ''}`).join(' · ')}
                  </p>
                )}
                <Comments key={photo.photo_id} token={token} guest={guest} photoId={photo.photo_id} canComment={canComment} onComment={props.onComment} />
              </div>
            </>
          )}
        </RadixDialog.Content>
      </RadixDialog.Portal>
    </RadixDialog.Root>
  )
}

function Comments({ token, guest, photoId, canComment, onComment }: { token: string; guest: string; photoId: string; canComment: boolean; onComment: (photoId: string, text: string) => Promise<void> }) {
  const comments = useComments(token, photoId)
  const [text, setText] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const [posted, setPosted] = useState<Comment[]>([])

  async function submit(event: FormEvent) {
    event.preventDefault()
    if (!text.trim()) return
    setBusy(true)
    setError(null)
    try {
      await onComment(photoId, text.trim())
      const now = new Date().toISOString()
      setPosted((list) => [...list, { comment_id: `local-${now}`, photo_id: photoId, photo_name: null, author: `client:${guest}`, text: text.trim(), created_at: now }])
      setText('')
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }

  const server = comments.data?.items ?? []
  const waiting = posted.filter((p) => !server.some((c) => c.author === p.author && c.text === p.text))
  const items = [...server, ...waiting]
  return (
    <section className="g-comments" aria-labelledby={`comments-${photoId}`}>
      <h3 id={`comments-${photoId}`} className="g-comments__title">
        Comments
      </h3>
      {comments.isPending && <Spinner label="Loading comments" />}
      {comments.error && <ProblemMessage error={comments.error} />}
      {!comments.isPending && items.length === 0 && <p className="g-muted-light">No comments yet.</p>}
      <ul className="g-comments__list">
        {items.map((c) => (
          <li key={c.comment_id}>
            <strong>{authorName(c.author)}</strong>{' '}
            <time dateTime={c.created_at} className="g-muted-light">
              {new Date(c.created_at).toLocaleString()}
            </time>
            <p>{c.text}</p>
          </li>
        ))}
      </ul>
      {canComment && (
        <form onSubmit={submit} className="g-comments__form">
          <label htmlFor={`comment-${photoId}`}>Add a comment</label>
          <textarea id={`comment-${photoId}`} rows={2} value={text} maxLength={2000} onChange={(e) => setText(e.target.value)} />
          {error !== null && <ProblemMessage error={error} shownFields={error instanceof ApiProblem ? [] : undefined} />}
          <Button type="submit" busy={busy} disabled={!text.trim()}>
            Send comment
          </Button>
        </form>
      )}
    </section>
  )
}
