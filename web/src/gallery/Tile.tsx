import { memo } from 'react'
import type { Photo } from './data'
import { Stars } from './Stars'

export interface TileProps {
  photo: Photo
  index: number
  mine: boolean
  canSelect: boolean
  canRate: boolean
  onOpen: (photoId: string) => void
  onPick: (photo: Photo) => void
  onRate: (photo: Photo, rating: number) => void
}

/** The first tiles (the first screen on a phone) load at once; the others when near the viewport. */
const EAGER = 12

/** One photo of the grid: the thumbnail (opens the lightbox), pick, stars, colour, comments. */
export const Tile = memo(function Tile({ photo, index, mine, canSelect, canRate, onOpen, onPick, onRate }: TileProps) {
  const thumb = photo.images.thumbnail
  const picked = photo.selected
  const pickLabel = mine ? `Unpick ${photo.name}` : `Pick ${photo.name}`
  return (
    <div className={picked ? 'g-tile g-tile--picked' : 'g-tile'} data-photo-id={photo.photo_id}>
      <button type="button" className="g-tile__open" onClick={() => onOpen(photo.photo_id)} aria-label={`Open ${photo.name}`}>
        {thumb ? (
          <img data-testid="thumb" src={thumb.url} width={thumb.width ?? undefined} height={thumb.height ?? undefined} loading={index < EAGER ? 'eager' : 'lazy'} fetchPriority={index < EAGER ? 'high' : 'auto'} decoding="async" alt="" />
        ) : (
          <span className="g-tile__missing">{photo.images.state === 'failed' ? 'No preview' : 'Preparing…'}</span>
        )}
      </button>
      {photo.color && (
        <span className={`g-dot g-dot--${photo.color} g-tile__color`} role="img" aria-label={`Colour ${photo.color}`} />
      )}
      {photo.comment_count > 0 && (
        <span className="g-tile__comments" role="img" aria-label={`${photo.comment_count} comment${photo.comment_count > 1 ? 's' : ''}`}>
          <svg aria-hidden="true" viewBox="0 0 16 16" width="12" height="12">
            <path fill="currentColor" d="M2 2h12a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H7l-4 3v-3H2a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1z" />
          </svg>{' '}
          <span aria-hidden="true">{photo.comment_count}</span>
        </span>
      )}
      <button
        type="button"
        className={mine ? 'g-pick g-pick--mine' : picked ? 'g-pick g-pick--others' : 'g-pick'}
        aria-pressed={mine}
        aria-label={pickLabel}
        title={picked && !mine ? 'Picked by another guest' : pickLabel}
        disabled={!canSelect}
        onClick={() => onPick(photo)}
      >
        <span aria-hidden="true">{picked ? '♥' : '♡'}</span>
      </button>
      <Stars value={photo.rating ?? 0} name={photo.name} disabled={!canRate} onRate={(r) => onRate(photo, r)} />
    </div>
  )
})
