/**
 * Helpers for the gallery journeys: a studio with a local folder of demo photos, an album
 * synced from it and shared, set up through the API (Playwright's `request` fixture).
 *
 * The photos' directory is the platform's local root, given by tests/e2e/test_web_journeys.py
 * as PHOTOFLOW_E2E_PHOTOS (when running by hand, the PHOTOFLOW_LOCAL_ROOTS of your platform).
 */
import { expect, type APIRequestContext, type Page } from '@playwright/test'
import { bearer, createUser, type Account } from './support'

export interface SharedGallery {
  account: Account
  albumId: string
  token: string
  photoCount: number
  expiresAt: Date | null
}

export function photosRoot(): string {
  const root = process.env.PHOTOFLOW_E2E_PHOTOS ?? process.env.PHOTOFLOW_LOCAL_ROOTS?.split(':')[0]
  if (!root) throw new Error('PHOTOFLOW_E2E_PHOTOS (a local root holding photos) is not set')
  return root
}

async function ok<T>(answer: Awaited<ReturnType<APIRequestContext['post']>>, status = [200, 201, 202]): Promise<T> {
  expect(status, `${answer.url()}: ${await answer.text()}`).toContain(answer.status())
  return (await answer.json().catch(() => ({}))) as T
}

/** Polls `probe` until `done` says yes (every 300 ms, up to `timeout` ms). */
async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string, timeout = 45_000): Promise<T> {
  const deadline = Date.now() + timeout
  let last: T = await probe()
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(last).slice(0, 500)}`)
    await new Promise((r) => setTimeout(r, 300))
    last = await probe()
  }
  return last
}

/**
 * A photographer, a studio, a local folder, an album (`selectionLimit`) synced and ready, shared
 * (`share` options: expires_at, allow_download). Waits until every photo's thumbnail is rendered.
 */
export async function sharedGallery(
  request: APIRequestContext,
  options: {
    selectionLimit?: number | null
    share?: { allow_download?: boolean }
    /** The link expires this many seconds after it is made. */
    expiresInSeconds?: number
    waitForImages?: boolean
  } = {},
): Promise<SharedGallery> {
  const account = await createUser(request, 'Gallery Photographer')
  const headers = bearer(account)
  const org = await ok<{ org_id: string }>(await request.post('/api/orgs', { headers, data: { name: 'Gallery Studio' } }))
  const folder = await ok<{ folder_id: string }>(
    await request.post(`/api/orgs/${org.org_id}/storage/folders`, {
      headers,
      data: { provider: 'local', location: photosRoot(), name: 'Wedding card' },
    }),
  )
  const album = await ok<{ album_id: string }>(
    await request.post(`/api/orgs/${org.org_id}/albums`, {
      headers,
      data: {
        title: 'Anna & Ben’s wedding',
        folder_id: folder.folder_id,
        client: { name: 'Anna', email: 'anna@example.com' },
        selection_limit: options.selectionLimit === undefined ? 3 : options.selectionLimit,
      },
    }),
  )
  const albumId = album.album_id
  await until(
    async () => (await request.post(`/api/albums/${albumId}/sync`, { headers })).status(),
    (status) => status === 202,
    'the album sync to be accepted',
    15_000,
  )
  const ready = await until(
    async () => (await (await request.get(`/api/albums/${albumId}`, { headers })).json()) as { status: string; photo_count: number },
    (a) => a.status === 'ready' && a.photo_count > 0,
    'the album to be ready',
  )
  const expiresAt = options.expiresInSeconds ? new Date(Date.now() + options.expiresInSeconds * 1000) : null
  const shared = await ok<{ share_token: string }>(
    await request.post(`/api/albums/${albumId}/share`, {
      headers,
      data: { ...options.share, ...(expiresAt ? { expires_at: expiresAt.toISOString() } : {}) },
    }),
  )
  const token = shared.share_token
  if (options.waitForImages !== false) {
    await until(
      async () => {
        const answer = await request.get(`/api/share/${token}?limit=500`)
        if (answer.status() !== 200) return { ready: 0, total: -1, status: answer.status() }
        const body = (await answer.json()) as { album: { status: string }; photos: { items: Array<{ images: { state: string } }> } }
        return {
          status: body.album.status,
          total: body.photos.items.length,
          ready: body.photos.items.filter((p) => p.images.state !== 'pending').length,
        }
      },
      (s) => s.total > 0 && s.ready === s.total && s.status === 'shared',
      'the thumbnails to be rendered and the album shared',
    )
  }
  return { account, albumId, token, photoCount: ready.photo_count, expiresAt }
}

/** Opens `/g/{token}` and answers the guest name prompt as `name`. */
export async function openAsGuest(page: Page, token: string, name: string): Promise<void> {
  await page.goto(`/g/${token}`)
  await page.getByLabel('Your name').fill(name)
  await page.getByRole('button', { name: 'Open the gallery' }).click()
  await expect(page.getByTestId('gallery-grid')).toBeVisible()
  await expect(page.getByTestId('thumb').first()).toBeVisible()
}
