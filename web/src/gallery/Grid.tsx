/**
 * The virtualised grid: rows of N columns (N from the grid's width), scrolled with the window
 * (phones collapse their address bar), only the rows near the viewport in the DOM.
 */
import { useWindowVirtualizer } from '@tanstack/react-virtual'
import { useLayoutEffect, useRef, useState } from 'react'
import type { Photo } from './data'
import { Tile } from './Tile'

/** px: 3 columns on a 412 px phone; bigger tiles on wider screens (6-7 columns on a laptop) */
const minTile = (width: number) => (width < 600 ? 116 : width < 1000 ? 150 : 180)
const GAP = 6
const STARS_ROW = 30

export interface GridProps {
  photos: Photo[]
  ownPicks: ReadonlySet<string>
  canSelect: boolean
  canRate: boolean
  onOpen: (photoId: string) => void
  onPick: (photo: Photo) => void
  onRate: (photo: Photo, rating: number) => void
}

export function Grid({ photos, ownPicks, canSelect, canRate, onOpen, onPick, onRate }: GridProps) {
  const ref = useRef<HTMLDivElement>(null)
  const [width, setWidth] = useState(0)
  const [top, setTop] = useState(0)

  useLayoutEffect(() => {
    const element = ref.current
    if (!element) return
    const measure = () => {
      setWidth(element.clientWidth)
      setTop(element.getBoundingClientRect().top + window.scrollY)
    }
    measure()
    const observer = new ResizeObserver(measure)
    observer.observe(element)
    if (element.parentElement) observer.observe(element.parentElement)
    return () => observer.disconnect()
  }, [])

  const columns = Math.max(2, Math.floor((width + GAP) / (minTile(width) + GAP)))
  const tile = width > 0 ? (width - GAP * (columns - 1)) / columns : minTile(width)
  const rowHeight = Math.round(tile + STARS_ROW + GAP)
  const rows = Math.ceil(photos.length / columns)

  const virtualizer = useWindowVirtualizer({
    count: rows,
    estimateSize: () => rowHeight,
    overscan: 3,
    scrollMargin: top,
  })
  useLayoutEffect(() => {
    virtualizer.measure()
  }, [virtualizer, rowHeight, columns])

  return (
    <div
      ref={ref}
      className="g-grid"
      data-testid="gallery-grid"
      role="list"
      aria-label={`${photos.length} photos`}
      style={{ height: rows * rowHeight }}
    >
      {virtualizer.getVirtualItems().map((row) => {
        const start = row.index * columns
        return (
          <div
            key={row.key}
            className="g-row"
            style={{
              transform: `translateY(${row.start - virtualizer.options.scrollMargin}px)`,
              height: rowHeight - GAP,
              gridTemplateColumns: `repeat(${columns}, 1fr)`,
              gap: GAP,
            }}
          >
            {photos.slice(start, start + columns).map((photo, i) => (
              <div role="listitem" key={photo.photo_id} style={{ height: tile + STARS_ROW }}>
                <Tile
                  photo={photo}
                  index={start + i}
                  mine={ownPicks.has(photo.photo_id)}
                  canSelect={canSelect}
                  canRate={canRate}
                  onOpen={onOpen}
                  onPick={onPick}
                  onRate={onRate}
                />
              </div>
            ))}
          </div>
        )
      })}
    </div>
  )
}
