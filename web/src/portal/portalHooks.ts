/** The portal's hooks and helpers shared by several pages (kept apart from components). */
import { useQuery } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { api, ApiProblem, call, type Schemas } from '../api/client'
import { consistency } from '../api/writes'
import { pk } from './queries'

type Kind = 'thumbnail' | 'preview' | 'original'
type Folder = Schemas['FolderView']

/**
 * A folder read from the read tables can be older than what the live events already showed
 * (the projection lags the stream by a moment): keep the sync's and the renders' progress from
 * going backwards within one sync.
 */
export function keepAhead(old: Folder | undefined, next: Folder): Folder {
  if (!old) return next
  let result = next
  const a = old.sync
  const b = next.sync
  if (a && b && a.sync_id === b.sync_id) {
    if (a.state !== 'running' && b.state === 'running') result = { ...result, sync: a }
    else if (a.state === 'running' && b.state === 'running' && (b.processed ?? 0) < (a.processed ?? 0)) {
      result = { ...result, sync: { ...b, processed: a.processed, total: b.total ?? a.total } }
    }
  }
  const ra = old.renditions
  const rb = next.renditions
  if (ra && rb && rb.total === ra.total && rb.ready < ra.ready) result = { ...result, renditions: { ...rb, ready: ra.ready } }
  return result
}

export function useFolder(folderId: string) {
  return useQuery({
    queryKey: pk.folder(folderId),
    queryFn: () =>
      call(api.GET('/api/storage/folders/{folder_id}', { params: { path: { folder_id: folderId }, header: consistency(folderId) } })),
    // live events move the bars and may run ahead of the read tables: never go back
    structuralSharing: (old, next) => keepAhead(old as Folder | undefined, next as Folder),
    // a slow poll while work runs covers a dropped stream
    refetchInterval: (query) => {
      const f = query.state.data
      const busy = f?.sync?.state === 'running' || (f?.renditions && f.renditions.ready + f.renditions.failed < f.renditions.total)
      return busy ? 5000 : false
    },
  })
}

export function useFolders(orgId: string) {
  return useQuery({
    queryKey: pk.folders(orgId),
    queryFn: () => call(api.GET('/api/orgs/{org_id}/storage/folders', { params: { path: { org_id: orgId }, query: { limit: 500 } } })),
  })
}

export function providerName(provider: string): string {
  return provider === 'google_drive' ? 'Google Drive' : provider === 's3' ? 'S3' : provider === 'local' ? 'Local' : provider
}

const MEMBER_IMAGE = /^\/api\/storage\/files\/([^/]+)\/(thumbnail|preview|original)$/

/** Parses a member image URL from the API into its parts; null for anything else. */
function parse(url: string): { fileId: string; kind: Kind; v?: string; folderId?: string } | null {
  const parsed = new URL(url, window.location.origin)
  const match = MEMBER_IMAGE.exec(parsed.pathname)
  if (!match) return null
  return {
    fileId: decodeURIComponent(match[1] ?? ''),
    kind: match[2] as Kind,
    v: parsed.searchParams.get('v') ?? undefined,
    folderId: parsed.searchParams.get('folder_id') ?? undefined,
  }
}

async function loadBlob(url: string, signal: AbortSignal): Promise<Blob> {
  const parts = parse(url)
  if (!parts) throw new Error(`not a member image: ${url}`)
  const params = { path: { file_id: parts.fileId }, query: { v: parts.v, folder_id: parts.folderId } }
  const options = { params, parseAs: 'blob' as const, signal }
  const answer =
    parts.kind === 'thumbnail'
      ? await api.GET('/api/storage/files/{file_id}/thumbnail', options)
      : parts.kind === 'preview'
        ? await api.GET('/api/storage/files/{file_id}/preview', options)
        : await api.GET('/api/storage/files/{file_id}/original', options)
  return answer.data as Blob
}

export type ImageState = { status: 'loading' | 'failed' | 'none'; src: null } | { status: 'loaded'; src: string }

/** An object URL for a member image URL (or `null` = no image yet); revoked on unmount. */
export function useMemberImage(url: string | null | undefined): ImageState {
  const [state, setState] = useState<ImageState>({ status: url ? 'loading' : 'none', src: null })
  const [shownUrl, setShownUrl] = useState(url)
  if (shownUrl !== url) {
    setShownUrl(url)
    setState({ status: url ? 'loading' : 'none', src: null })
  }
  useEffect(() => {
    if (!url) return
    const controller = new AbortController()
    let objectUrl: string | null = null
    loadBlob(url, controller.signal).then(
      (blob) => {
        if (controller.signal.aborted) return
        objectUrl = URL.createObjectURL(blob)
        setState({ status: 'loaded', src: objectUrl })
      },
      (error: unknown) => {
        if (controller.signal.aborted) return
        // not rendered yet: say so (the listing's URL changes once it is, which loads it again)
        const notRendered = error instanceof ApiProblem && error.kind === 'not-rendered'
        setState({ status: notRendered ? 'none' : 'failed', src: null })
      },
    )
    return () => {
      controller.abort()
      if (objectUrl) URL.revokeObjectURL(objectUrl)
    }
  }, [url])
  return state
}

