/**
 * The album page's reads and commands. Commands send `If-Match` with the version on screen; the
 * last command's `consistency_token` is sent back on the reads that follow (../api/writes), so
 * the page shows the write instead of the old state.
 */
import { useQuery } from '@tanstack/react-query'
import { api, call } from '../api/client'
import { catchUpInterval, consistency, rememberWrite } from '../api/writes'
import { pk } from './queries'

export function useAlbum(albumId: string) {
  return useQuery({
    queryKey: pk.album(albumId),
    queryFn: () => call(api.GET('/api/albums/{album_id}', { params: { path: { album_id: albumId }, header: consistency(albumId) } })),
    // a live event announced a newer version than the read tables gave: read again shortly;
    // while a sync runs, a slow poll covers a dropped stream
    refetchInterval: (query) =>
      catchUpInterval(albumId, query.state.data?.version) || (query.state.data?.status === 'syncing' ? 4000 : false),
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
