/**
 * Journey: after delivery the client asks for changes, sees the photographer's new delivery
 * arrive live (no reload), approves it; downloads are offered when the link allows them.
 */
import { expect, test } from '@playwright/test'
import { openAsGuest, sharedGallery } from './gallery-support'
import { bearer, snap } from './support'

test('after delivery the client requests changes, sees the redelivery live and approves', async ({ page, request }, testInfo) => {
  test.skip(testInfo.project.name !== 'phone', 'clients open links on their phones')
  const gallery = await sharedGallery(request, { selectionLimit: 3, share: { allow_download: true } })
  const share = `/api/share/${gallery.token}`
  const guest = { 'X-Guest': 'Anna' }
  const listing = (await (await request.get(`${share}?limit=10`, { headers: guest })).json()) as {
    photos: { items: Array<{ photo_id: string }> }
  }
  for (const photo of listing.photos.items.slice(0, 2)) {
    expect((await request.post(`${share}/photos/${photo.photo_id}/select`, { headers: guest })).status()).toBe(200)
  }
  expect((await request.post(`${share}/submit`, { headers: guest })).status()).toBe(200)
  const studio = bearer(gallery.account)
  const command = async (name: string) => {
    const answer = await request.post(`/api/albums/${gallery.albumId}/${name}`, { headers: studio })
    expect(answer.status(), await answer.text()).toBe(200)
  }
  await command('start-editing')
  await command('deliver')

  await openAsGuest(page, gallery.token, 'Anna')
  await expect(page.getByText('Your photos are ready')).toBeVisible()
  await expect(page.getByRole('button', { name: 'Send selection' })).toHaveCount(0)
  const all = page.getByRole('link', { name: 'Download all (ZIP)' })
  await expect(all).toHaveAttribute('href', `${share}/download?scope=all`)
  await expect(page.getByRole('link', { name: 'Download picked (ZIP)' })).toHaveAttribute('href', `${share}/download?scope=selection`)
  const zip = await request.get(`${share}/download?scope=selection`)
  expect(zip.status()).toBe(200)
  expect(zip.headers()['content-type']).toContain('zip')
  await snap(page, testInfo, 'gallery-delivered')

  await page.getByRole('button', { name: 'Request changes' }).click()
  const dialog = page.getByRole('dialog', { name: 'Request changes' })
  await dialog.getByLabel('What should change?').fill('Please brighten the first photo.')
  await snap(page, testInfo, 'gallery-request-changes')
  await dialog.getByRole('button', { name: 'Send request' }).click()
  await expect(dialog).toBeHidden()
  await expect(page.getByText('You asked for changes')).toBeVisible()
  await expect(page.getByRole('button', { name: 'Approve' })).toHaveCount(0)

  // the photographer works and delivers again: the page follows live
  await command('start-editing')
  await expect(page.getByText('Your photographer is editing your selection')).toBeVisible()
  await command('deliver')
  await expect(page.getByText('Your photos are ready')).toBeVisible()
  await page.getByRole('button', { name: 'Approve' }).click()
  await page.getByRole('dialog', { name: 'Approve the photos?' }).getByRole('button', { name: 'Approve' }).click()
  await expect(page.getByText('You approved the photos')).toBeVisible()
  await expect(page.getByRole('button', { name: 'Request changes' })).toHaveCount(0)
  await snap(page, testInfo, 'gallery-approved')
})
