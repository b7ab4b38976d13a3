/**
 * Journey: a folder's sync progress bar moves live (Server-Sent Events), without a reload.
 * A folder of a few thousand small JPEGs written by the test makes the sync last long enough
 * to watch, and its previews' render bar moves afterwards.
 */
import { expect, test } from '@playwright/test'
import { barValue, studioWithFolder, testDirectory, writeJpegs } from './portal-support'
import { createUser, signInWithTokens, snap } from './support'

const FILES = 2500

test('a sync’s progress bar moves live', async ({ page, request }, testInfo) => {
  // its own project ('bulk', playwright.config.ts): it runs after the others, once
  test.setTimeout(120_000)
  const dir = testDirectory('live-sync')
  writeJpegs(dir, FILES)
  const account = await createUser(request, 'Live Photographer')
  const { folderId } = await studioWithFolder(request, account, dir)
  await signInWithTokens(page, account)
  await page.goto(`/app/folders/${folderId}`)
  await expect(page.getByRole('heading', { name: 'Bulk folder' })).toBeVisible()
  await expect(page.getByTitle('Live')).toBeVisible() // the live stream is open
  // a marker that a reload would lose, and a sampler of every value the bar shows
  await page.evaluate(() => {
    const w = window as unknown as { __noReload: boolean; __syncValues: Array<[number, number]> }
    w.__noReload = true
    w.__syncValues = []
    setInterval(() => {
      const bar = document.querySelector('[role="progressbar"][aria-label="Syncing folder"]')
      const now = bar?.getAttribute('aria-valuenow')
      if (now != null && Number(now) !== w.__syncValues.at(-1)?.[1]) w.__syncValues.push([performance.now(), Number(now)])
    }, 25)
  })

  await page.getByLabel('Sync mode').selectOption('full')
  await page.getByRole('button', { name: 'Sync', exact: true }).click()

  // first moment: the bar shows a value part-way
  let first: number | null = null
  await expect
    .poll(async () => (first = await barValue(page, 'Syncing folder')), { intervals: [50], timeout: 30_000 })
    .toBeGreaterThan(0)
  await snap(page, testInfo, 'portal-sync-running')
  // second moment: a larger value (or the sync finished, having shown larger values on the way);
  // on a loaded machine the first value read may already be the last one, and the sampler's
  // record below is then what shows the bar moved
  if (first! < FILES) {
    await expect
      .poll(
        async () => {
          const now = await barValue(page, 'Syncing folder')
          if (now !== null) return now
          const seen = await page.evaluate(() => (window as unknown as { __syncValues: Array<[number, number]> }).__syncValues.map((v) => v[1]))
          return Math.max(...seen)
        },
        { intervals: [50], timeout: 30_000 },
      )
      .toBeGreaterThan(first!)
  }
  await expect(page.getByText(/Last full sync completed/)).toBeVisible({ timeout: 60_000 })
  const values = await page.evaluate(() => (window as unknown as { __syncValues: Array<[number, number]> }).__syncValues)
  const numbers = values.map((v) => v[1])
  expect(numbers.filter((n) => n > 0 && n < FILES).length, `values seen: ${numbers.join(', ')}`).toBeGreaterThanOrEqual(1)
  expect([...numbers].sort((a, b) => a - b)).toEqual(numbers) // never goes back
  expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true)
  await expect(page.getByText(`${FILES} files`).first()).toBeVisible()

  // the previews' render bar moves too
  const r1 = await barValue(page, 'Rendering previews')
  if (r1 !== null && r1 < FILES) {
    await expect.poll(() => barValue(page, 'Rendering previews').then((v) => v ?? FILES), { intervals: [250], timeout: 60_000 }).toBeGreaterThan(r1)
  }
  await snap(page, testInfo, 'portal-sync-done')
})
