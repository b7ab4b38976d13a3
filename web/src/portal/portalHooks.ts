/** The portal's hooks and helpers shared by several pages (kept apart from components). */
import { useQuery } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { api, call } from '../api/client'
import { pk } from './queries'

type Kind = 'thumbnail' | 'preview' | 'original'

export function useFolder(folderId: string) {
  return useQuery({
    queryKey: pk.folder(folderId),
    queryFn: () => call(api.GET('/api/storage/folders/{folder_id}', { params: { path: { folder_id: folderId } } })),
    // live events move the bars; a slow poll while work runs covers a dropped stream
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
      () => {
        if (!controller.signal.aborted) setState({ status: 'failed', src: null })
      },
    )
    return () => {
      controller.abort()
      if (objectUrl) URL.revokeObjectURL(objectUrl)
    }
  }, [url])
  return state
}

