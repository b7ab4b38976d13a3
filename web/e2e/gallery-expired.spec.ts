/** Journey: links that do not open say why (expired; unknown). */
import { expect, test } from '@playwright/test'
import { sharedGallery } from './gallery-support'
import { snap } from './support'

test('an expired link says it expired; an unknown one says not found', async ({ page, request }, testInfo) => {
  test.skip(testInfo.project.name !== 'phone', 'clients open links on their phones')
  const gallery = await sharedGallery(request, { expiresInSeconds: 3, waitForImages: false })
  await page.waitForTimeout(Math.max(0, (gallery.expiresAt?.getTime() ?? 0) - Date.now() + 500))
  await page.goto(`/g/${gallery.token}`)
  await expect(page.getByRole('heading', { name: 'This link expired' })).toBeVisible()
  await expect(page.getByText('Ask your photographer for a new link')).toBeVisible()
  await snap(page, testInfo, 'gallery-expired')

  await page.goto('/g/not-a-real-token')
  await expect(page.getByRole('heading', { name: 'Gallery not found' })).toBeVisible()
  await snap(page, testInfo, 'gallery-not-found')
})
