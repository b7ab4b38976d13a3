/**
 * Helpers for the portal journeys (web/e2e/portal-*.spec.ts).
 *
 * Photos: the platform's local root is PHOTOFLOW_E2E_PHOTOS (set by
 * tests/e2e/test_web_journeys.py; by hand, the first of your platform's PHOTOFLOW_LOCAL_ROOTS).
 * Each portal test works in its OWN hidden directory under that root (`<root>/.portal-e2e/<id>`):
 * the local provider skips hidden entries when it walks a folder, so a folder registered on the
 * root itself (the gallery journeys do that) never sees these files.
 */
import { expect, type APIRequestContext, type Page } from '@playwright/test'
import { mkdirSync, readdirSync, copyFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bearer, type Account } from './support'

export function photosRoot(): string {
  const root = process.env.PHOTOFLOW_E2E_PHOTOS ?? process.env.PHOTOFLOW_LOCAL_ROOTS?.split(':')[0]
  if (!root) throw new Error('PHOTOFLOW_E2E_PHOTOS (a local root of the platform, holding photos) is not set')
  return root
}

/** A new empty directory of this test under the local root (hidden from folders on the root). */
export function testDirectory(name: string): string {
  const dir = join(photosRoot(), '.portal-e2e', `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`)
  mkdirSync(dir, { recursive: true })
  return dir
}

/** Copies the root's demo JPEGs (top level and its `details` folder, infra/demo_photos.py) into `dir`; returns how many. */
export function copyDemoPhotos(dir: string): number {
  const root = photosRoot()
  let copied = 0
  const visit = (from: string, depth: number) => {
    for (const name of readdirSync(from)) {
      if (name.startsWith('.')) continue
      const path = join(from, name)
      const stat = statSync(path)
      if (stat.isDirectory() && depth === 0 && name === 'details') visit(path, 1)
      else if (stat.isFile() && /\.jpe?g$/i.test(name)) {
        copyFileSync(path, join(dir, name))
        copied += 1
      }
    }
  }
  visit(root, 0)
  return copied
}

/** A valid 16×12 JPEG (632 bytes). */
const TINY_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAMABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwCSiiivGPWP/9k=',
  'base64',
)

/**
 * Writes `count` small JPEGs into `dir`. Each gets a few bytes after the image's end marker
 * (decoders ignore them), so every file has its own checksum, as real photos do.
 */
export function writeJpegs(dir: string, count: number): void {
  for (let i = 0; i < count; i += 1) {
    writeFileSync(join(dir, `bulk-${String(i).padStart(5, '0')}.jpg`), Buffer.concat([TINY_JPEG, Buffer.from(`#${i}`)]))
  }
}

export async function ok<T>(answer: Awaited<ReturnType<APIRequestContext['post']>>, status = [200, 201, 202]): Promise<T> {
  expect(status, `${answer.url()}: ${await answer.text()}`).toContain(answer.status())
  return (await answer.json().catch(() => ({}))) as T
}

/** A studio and a local folder on `dir`, through the API. */
export async function studioWithFolder(request: APIRequestContext, account: Account, dir: string, name = 'Bulk folder') {
  const headers = bearer(account)
  const org = await ok<{ org_id: string }>(await request.post('/api/orgs', { headers, data: { name: 'Live Studio' } }))
  const folder = await ok<{ folder_id: string }>(
    await request.post(`/api/orgs/${org.org_id}/storage/folders`, { headers, data: { provider: 'local', location: dir, name } }),
  )
  return { orgId: org.org_id, folderId: folder.folder_id }
}

/** The `aria-valuenow` of the progress bar named `label` (null when absent or indeterminate). */
export async function barValue(page: Page, label: string): Promise<number | null> {
  const bar = page.getByRole('progressbar', { name: label })
  if ((await bar.count()) === 0) return null
  const value = await bar.first().getAttribute('aria-valuenow', { timeout: 1000 }).catch(() => null)
  return value === null ? null : Number(value)
}
