/**
 * The album page's reads and commands. Commands send `If-Match` with the version on screen; the
 * last command's `consistency_token` is kept per album and sent as `X-Consistency-Token` on the
 * reads that follow, so the page shows the write (read-your-writes) instead of the old state.
 */
import { useQuery } from '@tanstack/react-query'
import { api, call } from '../api/client'
import { pk } from './queries'

const tokens = new Map<string, string>()

export function rememberWrite(albumId: string, token: string | null | undefined): void {
  if (token) tokens.set(albumId, token)
}

/** `{ 'X-Consistency-Token': ... }` after a write of this album, else nothing. */
export function consistency(albumId: string): { 'X-Consistency-Token'?: string } {
  const token = tokens.get(albumId)
  return token ? { 'X-Consistency-Token': token } : {}
}

export function useAlbum(albumId: string) {
  return useQuery({
    queryKey: pk.album(albumId),
    queryFn: () => call(api.GET('/api/albums/{album_id}', { params: { path: { album_id: albumId }, header: consistency(albumId) } })),
    refetchInterval: (query) => (query.state.data?.status === 'syncing' ? 4000 : false),
  })
}

export type AlbumCommand = 'sync' | 'start-editing' | 'deliver' | 'archive' | 'reopen'

export async function runCommand(albumId: string, command: AlbumCommand, version: number | undefined) {
  const init = { params: { path: { album_id: albumId }, header: version === undefined ? {} : { 'If-Match': String(version) } } }
  const written =
    command === 'sync'
      ? await call(api.POST('/api/albums/{album_id}/sync', init))
      : command === 'start-editing'
        ? await call(api.POST('/api/albums/{album_id}/start-editing', init))
        : command === 'deliver'
          ? await call(api.POST('/api/albums/{album_id}/deliver', init))
          : command === 'archive'
            ? await call(api.POST('/api/albums/{album_id}/archive', init))
            : await call(api.POST('/api/albums/{album_id}/reopen', init))
  rememberWrite(albumId, (written as { consistency_token?: string | null }).consistency_token)
  return written
}
