/**
 * The gallery's server state: the album header (small, refetched on every live event), the
 * photos (pages of 500 fetched one after another, the first shown at once), a photo's comments,
 * and the client's commands with optimistic updates. Every call goes through `api` with the
 * guest's name as `X-Guest`.
 */
import { infiniteQueryOptions, useInfiniteQuery, useQuery, type InfiniteData, type QueryClient } from '@tanstack/react-query'
import { useEffect } from 'react'
import { api, call, type Schemas } from '../api/client'
import { keys } from '../api/hooks'
import { announceVersion, catchUpInterval, consistency, rememberWrite } from '../api/writes'

export type SharedAlbum = Schemas['SharedAlbum']
export type Photo = Schemas['AlbumPhoto']
export type ShareView = Schemas['ShareView']
export type Comment = Schemas['CommentView']
export type Color = 'red' | 'yellow' | 'green' | 'blue' | 'purple'

export const COLORS: Color[] = ['red', 'yellow', 'green', 'blue', 'purple']
/** Keys 6-9 in the lightbox. */
export const COLOR_KEYS: Record<string, Color> = { '6': 'red', '7': 'yellow', '8': 'green', '9': 'blue' }

export const PAGE_SIZE = 500

export const galleryKeys = {
  header: (token: string) => [...keys.share(token), 'header'] as const,
  photos: (token: string, guest: string) => [...keys.share(token), 'photos', guest] as const,
  comments: (token: string, photoId: string) => [...keys.share(token), 'comments', photoId] as const,
}

export function guestHeaders(guest: string | null): Record<string, string> {
  return guest ? { 'X-Guest': guest } : {}
}

/** The name this link's own writes are remembered by (../api/writes: read-your-writes). */
function writesOf(token: string): string {
  return `share:${token}`
}

/** A read's headers: the guest, and the token of this link's last command if there was one. */
function readHeaders(token: string, guest: string | null): Record<string, string> {
  return { ...guestHeaders(guest), ...consistency(writesOf(token)) }
}

/** A command of this link was recorded: the reads that follow wait until they include it. */
export function rememberShareWrite(token: string, written: { consistency_token?: string | null }): void {
  rememberWrite(writesOf(token), written.consistency_token)
}

/** A live event said the album reached `version`: the header is read until it shows that. */
export function announceShareVersion(token: string, version: number | undefined): void {
  announceVersion(writesOf(token), version)
}

/** The album (status, counts, allowed commands, share settings): `GET /api/share/{token}?limit=1`. */
export function useAlbumHeader(token: string, guest: string | null) {
  return useQuery({
    queryKey: galleryKeys.header(token),
    queryFn: async () =>
      (
        await call(
          api.GET('/api/share/{share_token}', {
            params: { path: { share_token: token }, query: { limit: 1 } },
            headers: readHeaders(token, guest),
          }),
        )
      ).album,
    retry: (count, error) => count < 2 && !isFinal(error),
    // the live stream announced a newer version than the read tables gave: read again shortly
    refetchInterval: (query) => catchUpInterval(writesOf(token), query.state.data?.version),
  })
}

/**
 * Not worth retrying: the link is unknown, expired or archived. A read that waited for our own
 * write in vain (409 not-yet-consistent, the platform is busy) is worth another try.
 */
export function isFinal(error: unknown): boolean {
  const { status = 0, kind = '' } = (error as { status?: number; kind?: string } | null) ?? {}
  if (status === 409 && kind === 'not-yet-consistent') return false
  return status >= 400 && status < 500 && status !== 408 && status !== 429
}

/**
 * The photos query's options (also for prefetching it beside the header). No structural sharing:
 * comparing 15,000 photos deeply on every page's arrival costs frames while the client scrolls;
 * the pages already keep their identity (a new page is appended, a changed photo replaced).
 */
export function photosOptions(token: string, guest: string) {
  return infiniteQueryOptions({
    queryKey: galleryKeys.photos(token, guest),
    structuralSharing: false,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      call(
        api.GET('/api/share/{share_token}', {
          params: { path: { share_token: token }, query: { limit: PAGE_SIZE, cursor: pageParam } },
          headers: readHeaders(token, guest),
        }),
      ),
    getNextPageParam: (last) => last.photos.next_cursor ?? undefined,
    retry: (count, error) => count < 2 && !isFinal(error),
    staleTime: Infinity, // kept current by the live stream and by our own commands
  })
}

/** Every photo, page after page (500 each); the first page is usable at once. */
export function usePhotos(token: string, guest: string) {
  const query = useInfiniteQuery(photosOptions(token, guest))
  const { hasNextPage, isFetchingNextPage, fetchNextPage, isError } = query
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && !isError) void fetchNextPage()
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, isError])
  return query
}

/** Replace one photo in the cached pages (only its page's array is copied). */
export function patchPhoto(
  client: QueryClient,
  token: string,
  guest: string,
  photoId: string,
  patch: (photo: Photo) => Photo,
): void {
  client.setQueryData<InfiniteData<ShareView, string | null>>(galleryKeys.photos(token, guest), (data) => {
    if (!data) return data
    let changed = false
    const pages = data.pages.map((page) => {
      if (changed) return page
      const index = page.photos.items.findIndex((p) => p.photo_id === photoId)
      if (index < 0) return page
      changed = true
      const items = page.photos.items.slice()
      const photo = items[index]
      if (photo) items[index] = patch(photo)
      return { ...page, photos: { ...page.photos, items } }
    })
    return changed ? { ...data, pages } : data
  })
}

export function findPhoto(client: QueryClient, token: string, guest: string, photoId: string): Photo | undefined {
  const data = client.getQueryData<InfiniteData<ShareView, string | null>>(galleryKeys.photos(token, guest))
  for (const page of data?.pages ?? []) {
    const found = page.photos.items.find((p) => p.photo_id === photoId)
    if (found) return found
  }
  return undefined
}

export function patchHeader(client: QueryClient, token: string, patch: (album: SharedAlbum) => SharedAlbum): void {
  client.setQueryData<SharedAlbum>(galleryKeys.header(token), (album) => (album ? patch(album) : album))
}

/** A photo's comments, oldest first (`GET .../photos/{id}/comments`). */
export function useComments(token: string, photoId: string | null) {
  return useQuery({
    queryKey: galleryKeys.comments(token, photoId ?? ''),
    enabled: !!photoId,
    queryFn: () =>
      call(
        api.GET('/api/share/{share_token}/photos/{photo_id}/comments', {
          params: { path: { share_token: token, photo_id: photoId ?? '' }, query: { limit: 500 } },
          headers: consistency(writesOf(token)),
        }),
      ),
  })
}

/** "client:Anna" -> "Anna"; "studio" -> "Photographer". */
export function authorName(author: string): string {
  if (author.startsWith('client:')) return author.slice('client:'.length)
  return author === 'studio' ? 'Photographer' : author
}

/**
 * Read `queryKey` again a little later, a few times: for what other guests changed (a comment,
 * new photos), which no token of ours covers, and which the live stream can announce before the
 * read tables show it. Our own writes need no delay: their reads carry the command's token.
 */
export function refreshLater(client: QueryClient, queryKey: readonly unknown[], delays: number[] = [400, 1500, 4000]): void {
  for (const delay of delays) {
    setTimeout(() => void client.invalidateQueries({ queryKey }), delay)
  }
}
