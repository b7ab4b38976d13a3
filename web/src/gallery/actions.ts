/**
 * The client's commands on a share link, with optimistic updates for picks and ratings (rolled
 * back when the platform refuses), and the guest's own picks (kept locally: the listing's
 * `selected` says whether *any* guest picked a photo, not whether this guest did).
 */
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useCallback, useMemo, useState } from 'react'
import { api, call } from '../api/client'
import { ApiProblem } from '../api/problem'
import {
  findPhoto,
  galleryKeys,
  guestHeaders,
  patchHeader,
  patchPhoto,
  rememberShareWrite,
  type Color,
  type Photo,
  type SharedAlbum,
} from './data'
import { loadOwnPicks, saveOwnPicks } from './guest'

export interface Notice {
  /** `limit`: the selection is full (the 409's detail); `error`: another refusal. */
  kind: 'limit' | 'error'
  text: string
}

export interface GalleryActions {
  ownPicks: ReadonlySet<string>
  /** Called by the live stream when this guest's pick changed elsewhere (another tab). */
  setOwnPick: (photoId: string, picked: boolean) => void
  togglePick: (photo: Photo) => Promise<void>
  rate: (photo: Photo, rating: number, color: Color | null) => Promise<void>
  comment: (photoId: string, text: string) => Promise<void>
  /** Own comments posted but not yet seen on the live stream, per photo (not counted twice). */
  pendingComments: Map<string, number>
  notice: Notice | null
  clearNotice: () => void
}

export function useGalleryActions(token: string, guest: string): GalleryActions {
  const client = useQueryClient()
  const [ownPicks, setOwnPicks] = useState<Set<string>>(() => loadOwnPicks(token, guest))
  const [notice, setNotice] = useState<Notice | null>(null)
  const [pendingComments] = useState(() => new Map<string, number>())
  const headers = useMemo(() => guestHeaders(guest), [guest])

  const setOwnPick = useCallback(
    (photoId: string, picked: boolean) => {
      setOwnPicks((current) => {
        if (current.has(photoId) === picked) return current
        const next = new Set(current)
        if (picked) next.add(photoId)
        else next.delete(photoId)
        saveOwnPicks(token, guest, next)
        return next
      })
    },
    [token, guest],
  )

  // reads after our own command carry its token (rememberShareWrite), so they include it at once
  const refreshHeader = useCallback(() => void client.invalidateQueries({ queryKey: galleryKeys.header(token) }), [client, token])

  const togglePick = useCallback(
    async (photo: Photo) => {
      const id = photo.photo_id
      const before = findPhoto(client, token, guest, id) ?? photo
      const header = client.getQueryData<SharedAlbum>(galleryKeys.header(token))
      const mine = ownPicks.has(id)
      const picking = !mine
      await client.cancelQueries({ queryKey: galleryKeys.header(token) })
      // optimistic
      setOwnPick(id, picking)
      patchPhoto(client, token, guest, id, (p) => ({ ...p, selected: picking }))
      if (picking !== before.selected) {
        patchHeader(client, token, (a) => ({ ...a, selection_count: Math.max(0, a.selection_count + (picking ? 1 : -1)) }))
      }
      try {
        const path = { share_token: token, photo_id: id }
        const written = picking
          ? await call(api.POST('/api/share/{share_token}/photos/{photo_id}/select', { params: { path }, headers }))
          : await call(api.POST('/api/share/{share_token}/photos/{photo_id}/deselect', { params: { path }, headers }))
        rememberShareWrite(token, written)
        setNotice((n) => (n?.kind === 'limit' && !picking ? null : n))
      } catch (error) {
        // roll back
        setOwnPick(id, mine)
        patchPhoto(client, token, guest, id, (p) => ({ ...p, selected: before.selected }))
        if (header) client.setQueryData(galleryKeys.header(token), header)
        setNotice(noticeFor(error, picking ? `“${photo.name}” could not be picked` : `“${photo.name}” could not be unpicked`))
      } finally {
        refreshHeader()
      }
    },
    [client, token, guest, headers, ownPicks, setOwnPick, refreshHeader],
  )

  const rate = useCallback(
    async (photo: Photo, rating: number, color: Color | null) => {
      const id = photo.photo_id
      const before = findPhoto(client, token, guest, id) ?? photo
      patchPhoto(client, token, guest, id, (p) => ({
        ...p,
        rating,
        color,
        ratings: { ...p.ratings, [guest]: { rating, color } },
      }))
      try {
        const written = await call(
          api.POST('/api/share/{share_token}/photos/{photo_id}/rating', {
            params: { path: { share_token: token, photo_id: id } },
            headers,
            body: { rating, color },
          }),
        )
        rememberShareWrite(token, written)
      } catch (error) {
        patchPhoto(client, token, guest, id, (p) => ({ ...p, rating: before.rating, color: before.color, ratings: before.ratings }))
        setNotice(noticeFor(error, `“${photo.name}” could not be rated`))
      }
    },
    [client, token, guest, headers],
  )

  const comment = useCallback(
    async (photoId: string, text: string) => {
      // counted here, once: the live stream's echo of it (before or after the answer) is not
      pendingComments.set(photoId, (pendingComments.get(photoId) ?? 0) + 1)
      try {
        const written = await call(
          api.POST('/api/share/{share_token}/photos/{photo_id}/comments', {
            params: { path: { share_token: token, photo_id: photoId } },
            headers,
            body: { text },
          }),
        )
        rememberShareWrite(token, written)
      } catch (error) {
        pendingComments.set(photoId, Math.max(0, (pendingComments.get(photoId) ?? 1) - 1))
        throw error
      }
      patchPhoto(client, token, guest, photoId, (p) => ({ ...p, comment_count: p.comment_count + 1 }))
      void client.invalidateQueries({ queryKey: galleryKeys.comments(token, photoId) })
      refreshHeader()
    },
    [client, token, guest, headers, pendingComments, refreshHeader],
  )

  const clearNotice = useCallback(() => setNotice(null), [])
  return { ownPicks, setOwnPick, togglePick, rate, comment, pendingComments, notice, clearNotice }
}

function noticeFor(error: unknown, what: string): Notice {
  if (error instanceof ApiProblem && error.status === 409 && /selection|limit|full/i.test(`${error.kind} ${error.detail}`)) {
    return { kind: 'limit', text: capitalise(error.detail || 'The selection is full.') }
  }
  const detail = error instanceof ApiProblem ? error.detail || error.title : String(error)
  return { kind: 'error', text: `${what}: ${detail}` }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

const NEXT_STATUS: Record<string, string> = {
  submit: 'selection_submitted',
  approve: 'approved',
  'request-changes': 'changes_requested',
}

/** Submit, request changes, approve: whole-album commands, then the header is read again. */
export function useAlbumCommand(token: string, guest: string, command: 'submit' | 'approve' | 'request-changes') {
  const client = useQueryClient()
  return useMutation({
    mutationFn: async (text?: string) => {
      const headers = guestHeaders(guest)
      const path = { share_token: token }
      if (command === 'submit') return call(api.POST('/api/share/{share_token}/submit', { params: { path }, headers }))
      if (command === 'approve') return call(api.POST('/api/share/{share_token}/approve', { params: { path }, headers }))
      return call(api.POST('/api/share/{share_token}/request-changes', { params: { path }, headers, body: { text: text ?? '' } }))
    },
    onSuccess: (written) => {
      rememberShareWrite(token, written)
      // the state moved on: hide the command at once; the header is read again with the token
      const done = command === 'request-changes' ? 'request_changes' : command
      patchHeader(client, token, (a) => ({
        ...a,
        status: NEXT_STATUS[command] ?? a.status,
        allowed_commands: a.allowed_commands.filter((c) => c !== done && (command !== 'submit' || (c !== 'select' && c !== 'rate'))),
      }))
    },
    onSettled: () => void client.invalidateQueries({ queryKey: galleryKeys.header(token) }),
  })
}
