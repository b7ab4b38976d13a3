/**
 * Live updates: `GET /api/share/{token}/stream` (Server-Sent Events; EventSource, no headers).
 * Each message's `event:` is the album event's type and `data:` its client-safe Kafka envelope.
 * On any event the album header is read again (debounced); an event that names a photo updates
 * that photo in the cache; photos added or removed read the listing again.
 */
import { useQueryClient } from '@tanstack/react-query'
import { useEffect, useRef, useState } from 'react'
import { announceShareVersion, galleryKeys, patchPhoto, refreshLater, type Color } from './data'
import { CLIENT_ALBUM_EVENTS } from '../api/events'
import type { GalleryActions } from './actions'


interface Envelope {
  type?: string
  version?: number
  data?: Record<string, unknown>
}

export type LiveState = 'connecting' | 'live' | 'offline'

export function useLiveUpdates(token: string, guest: string, actions: GalleryActions, enabled: boolean): LiveState {
  const client = useQueryClient()
  const [state, setState] = useState<LiveState>('connecting')
  const actionsRef = useRef(actions)
  useEffect(() => {
    actionsRef.current = actions
  })

  useEffect(() => {
    if (!enabled || typeof EventSource === 'undefined') return
    const source = new EventSource(`/api/share/${encodeURIComponent(token)}/stream`)
    let timer: ReturnType<typeof setTimeout> | undefined
    const refreshHeader = () => {
      // debounced: a burst of events reads the header once; until it shows the announced
      // version, the header's query reads it again (data.ts, catch-up)
      clearTimeout(timer)
      timer = setTimeout(() => void client.invalidateQueries({ queryKey: galleryKeys.header(token) }), 250)
    }
    const onEvent = (message: MessageEvent<string>) => {
      let envelope: Envelope
      try {
        envelope = JSON.parse(message.data) as Envelope
      } catch {
        return
      }
      const type = envelope.type ?? message.type
      const data = envelope.data ?? {}
      const photoId = typeof data.photo_id === 'string' ? data.photo_id : null
      const who = typeof data.guest === 'string' ? data.guest : null
      announceShareVersion(token, envelope.version)
      refreshHeader()
      switch (type) {
        case 'AlbumPhotoSelected':
        case 'AlbumPhotoDeselected': {
          if (!photoId) break
          const picked = type === 'AlbumPhotoSelected'
          if (who === guest) actionsRef.current.setOwnPick(photoId, picked)
          // after an unpick the photo stays picked if this guest picked it too; whether a third
          // guest still picks it the stream does not say (the photo shows as unpicked until read again)
          const ownPick = who !== guest && actionsRef.current.ownPicks.has(photoId)
          patchPhoto(client, token, guest, photoId, (p) => ({ ...p, selected: picked || ownPick }))
          break
        }
        case 'AlbumPhotoRated': {
          if (!photoId || !who) break
          const rating = typeof data.rating === 'number' ? data.rating : 0
          const color = (typeof data.color === 'string' ? data.color : null) as Color | null
          patchPhoto(client, token, guest, photoId, (p) => ({
            ...p,
            ...(who === guest ? { rating, color } : {}),
            ratings: { ...p.ratings, [who]: { rating, color } },
          }))
          break
        }
        case 'AlbumCommentAdded': {
          if (!photoId) break
          const pending = actionsRef.current.pendingComments
          const author = typeof data.author === 'string' ? data.author : ''
          const waiting = pending.get(photoId) ?? 0
          if (author === `client:${guest}` && waiting > 0) pending.set(photoId, waiting - 1)
          else patchPhoto(client, token, guest, photoId, (p) => ({ ...p, comment_count: p.comment_count + 1 }))
          refreshLater(client, galleryKeys.comments(token, photoId), [500, 2000])
          break
        }
        case 'AlbumProcStatusSet': {
          if (!photoId || typeof data.status !== 'string') break
          const status = data.status
          patchPhoto(client, token, guest, photoId, (p) => ({ ...p, proc_status: status }))
          break
        }
        case 'AlbumPhotosAdded':
        case 'AlbumPhotosRemoved':
        case 'AlbumSyncFinished':
          refreshLater(client, galleryKeys.photos(token, guest), [1000])
          break
        default:
          break
      }
    }
    for (const type of CLIENT_ALBUM_EVENTS) source.addEventListener(type, onEvent)
    source.onmessage = onEvent // an event type added later: at least the header is read again
    source.onopen = () => setState('live')
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? 'offline' : 'connecting')
    return () => {
      clearTimeout(timer)
      source.close()
    }
  }, [client, token, guest, enabled])

  return state
}
