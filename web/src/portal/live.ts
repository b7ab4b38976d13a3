/**
 * Live push for the portal: trades the sign-in for a short-lived, single-use stream token
 * (`POST /api/stream-tokens`), opens `EventSource('/api/stream?token=...')`, and turns each event
 * of the user's studios into TanStack Query cache updates, so progress bars and album pages move
 * without a reload. A stream token opens one stream only, so on any error (or when the server
 * ends the stream) the next connection uses a fresh token and resumes with `last_event_id`; a
 * spare token is fetched ahead and renewed before it expires, so a reconnection is immediate.
 */
import { useQueryClient, type QueryClient } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { api, call, type Schemas } from '../api/client'
import { CLIENT_ALBUM_EVENTS, MEMBER_ALBUM_EVENTS } from '../api/events'
import { keys } from '../api/hooks'
import { announceVersion } from '../api/writes'
import { pk } from './queries'

export interface Envelope {
  id?: string
  type: string
  aggregate_id: string
  version?: number
  org_id?: string
  data: Record<string, unknown>
}

/** The event types the portal reacts to (SSE `event:` names; see /api/asyncapi.json). */
export const LIVE_EVENT_TYPES = [
  'FolderRegistered',
  'FolderSyncStarted',
  'FolderFilesDiscovered',
  'FolderFilesRemoved',
  'FolderSyncProgressed',
  'FolderSyncCompleted',
  'FolderSyncFailed',
  'RenditionsMade',
  'StorageFolderSyncProgress',
  'StorageFolderSyncCompleted',
  'StorageFolderSyncFailed',
  ...CLIENT_ALBUM_EVENTS,
  ...MEMBER_ALBUM_EVENTS,
  'OrganizationCreated',
  'OrganizationRenamed',
  'OrganizationMemberAdded',
  'OrganizationMemberRoleChanged',
  'OrganizationMemberRemoved',
  'OrganizationInvitationSent',
  'OrganizationInvitationAccepted',
  'OrganizationInvitationRevoked',
  'OrganizationWatermarkSet',
  'OrganizationWatermarkRemoved',
] as const

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'off'

type FolderView = Schemas['FolderView']

/** Invalidations are coalesced: many events within this window cause one refetch per key. */
const COALESCE_MS = 400

function makeInvalidator(client: QueryClient) {
  const pending = new Map<string, readonly unknown[]>()
  let timer: ReturnType<typeof setTimeout> | null = null
  return (key: readonly unknown[]) => {
    pending.set(JSON.stringify(key), key)
    timer ??= setTimeout(() => {
      timer = null
      const all = [...pending.values()]
      pending.clear()
      for (const k of all) void client.invalidateQueries({ queryKey: k })
    }, COALESCE_MS)
  }
}

export function applyEvent(client: QueryClient, invalidate: (key: readonly unknown[]) => void, event: Envelope): void {
  const { type, aggregate_id: id, data } = event
  const org = event.org_id ?? (typeof data.org_id === 'string' ? data.org_id : undefined)
  if (type === 'FolderSyncProgressed' || type === 'StorageFolderSyncProgress') {
    const processed = typeof data.processed === 'number' ? data.processed : null
    const total = typeof data.total === 'number' ? data.total : null
    const folderId = type === 'FolderSyncProgressed' ? id : typeof data.folder_id === 'string' ? data.folder_id : id
    client.setQueryData<FolderView>(pk.folder(folderId), (old) =>
      old && old.sync && processed !== null && (old.sync.processed ?? 0) <= processed
        ? { ...old, sync: { ...old.sync, state: 'running', processed, total: total ?? old.sync.total } }
        : old,
    )
    if (org) invalidate(pk.folders(org))
    return
  }
  if (type.startsWith('Folder') || type.startsWith('StorageFolder')) {
    const folderId = type.startsWith('StorageFolder') && typeof data.folder_id === 'string' ? data.folder_id : id
    invalidate(pk.folder(folderId))
    invalidate(pk.folderPhotos(folderId))
    if (org) invalidate(pk.folders(org))
    return
  }
  if (type === 'RenditionsMade') {
    const folderId = typeof data.folder_id === 'string' ? data.folder_id : id
    invalidate(pk.folder(folderId))
    if (org) invalidate(pk.folders(org))
    return
  }
  if (type.startsWith('Album')) {
    announceVersion(id, event.version)
    invalidate(pk.album(id))
    if (type !== 'AlbumTagged' && type !== 'AlbumUntagged') invalidate(pk.albumPhotos(id))
    invalidate(pk.albumActivity(id))
    invalidate(pk.albumAudit(id))
    if (type === 'AlbumCommentAdded') invalidate(pk.albumComments(id))
    if (org) invalidate(pk.albums(org))
    return
  }
  if (type.startsWith('Organization')) {
    invalidate(keys.me)
    invalidate(pk.org(id))
    invalidate(pk.members(id))
    invalidate(pk.invitations(id))
  }
}

async function newToken(): Promise<Schemas['StreamToken']> {
  return call(api.POST('/api/stream-tokens'))
}

/**
 * Keeps one live stream open while mounted; `scope` (e.g. the user's studio ids) reopens it when
 * it changes, since a stream carries the studios the user belonged to when it opened.
 */
export function useLiveStream(scope: string, enabled = true): LiveState {
  const client = useQueryClient()
  const [state, setState] = useState<LiveState>('connecting')

  useEffect(() => {
    if (!enabled) return
    let stopped = false
    let source: EventSource | null = null
    let spare: { token: string; expiresAt: number } | null = null
    let renewTimer: ReturnType<typeof setTimeout> | null = null
    let retryTimer: ReturnType<typeof setTimeout> | null = null
    let lastEventId: string | null = null
    let failures = 0
    const invalidate = makeInvalidator(client)

    const fetchSpare = async () => {
      const answer = await newToken()
      spare = { token: answer.stream_token, expiresAt: Date.now() + answer.expires_in * 1000 }
      if (renewTimer) clearTimeout(renewTimer)
      // renew the spare at 80 % of its life so a reconnection never holds an expired token
      renewTimer = setTimeout(() => {
        if (!stopped) void fetchSpare().catch(() => (spare = null))
      }, Math.max(1000, answer.expires_in * 800))
    }

    const takeToken = async (): Promise<string> => {
      if (spare && spare.expiresAt - Date.now() > 2000) {
        const token = spare.token
        spare = null
        return token
      }
      return (await newToken()).stream_token
    }

    const onMessage = (message: MessageEvent<string>) => {
      failures = 0
      if (message.lastEventId) lastEventId = message.lastEventId
      try {
        const envelope = JSON.parse(message.data) as Envelope
        if (!envelope.type) envelope.type = message.type
        applyEvent(client, invalidate, envelope)
      } catch {
        // a malformed message changes nothing; the next refetch corrects the page
      }
    }

    const connect = async () => {
      if (stopped) return
      try {
        const token = await takeToken()
        if (stopped) return
        const url = new URL('/api/stream', window.location.origin)
        url.searchParams.set('token', token)
        if (lastEventId) url.searchParams.set('last_event_id', lastEventId)
        const es = new EventSource(url)
        source = es
        es.onopen = () => {
          setState('live')
          failures = 0
          void fetchSpare().catch(() => (spare = null))
        }
        for (const type of LIVE_EVENT_TYPES) es.addEventListener(type, onMessage)
        es.onmessage = onMessage
        es.onerror = () => {
          // the token is spent: EventSource's own retry would be refused, so close and reopen
          es.close()
          if (source === es) source = null
          schedule()
        }
      } catch {
        schedule()
      }
    }

    const schedule = () => {
      if (stopped) return
      setState('reconnecting')
      failures += 1
      const delay = Math.min(30_000, 500 * 2 ** Math.min(failures, 6))
      retryTimer = setTimeout(() => void connect(), delay)
      // events may have been missed while away: refetch what is on screen
      void client.invalidateQueries({ predicate: (q) => ['folder', 'album', 'album-photos'].includes(String(q.queryKey[0])) })
    }

    void connect()
    return () => {
      stopped = true
      source?.close()
      if (renewTimer) clearTimeout(renewTimer)
      if (retryTimer) clearTimeout(retryTimer)
      setState('off')
    }
  }, [client, scope, enabled])

  return state
}
