/**
 * Journey: two guests on one link at once (two browser contexts): each keeps their own stars;
 * the second sees the first's pick arrive live (Server-Sent Events), without a reload.
 */
import { expect, test } from '@playwright/test'
import { openAsGuest, sharedGallery } from './gallery-support'
import { snap } from './support'

test('two guests on one link see their own ratings and each other’s picks live', async ({ browser, request }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'one run is enough: two contexts of the desktop project')
  const gallery = await sharedGallery(request, { selectionLimit: 4 })
  const annaContext = await browser.newContext()
  const benContext = await browser.newContext()
  try {
    const anna = await annaContext.newPage()
    const ben = await benContext.newPage()
    await openAsGuest(anna, gallery.token, 'Anna')
    await openAsGuest(ben, gallery.token, 'Ben')
    const annaFirst = anna.locator('.g-tile').first()
    const benFirst = ben.locator('.g-tile').first()

    // Anna picks and gives five stars; Ben's page shows the pick live, not her stars
    await annaFirst.getByRole('button', { name: /^Pick / }).click()
    await annaFirst.getByRole('button', { name: '5 stars' }).click()
    await expect(annaFirst.getByRole('group', { name: /5 of 5 stars/ })).toBeVisible()
    await expect(ben.getByTestId('selection-counter')).toContainText('1 of 4 picked')
    await expect(benFirst).toHaveClass(/g-tile--picked/)
    await expect(benFirst.getByRole('button', { name: /^Pick / })).toHaveAttribute('title', 'Picked by another guest')
    await expect(benFirst.getByRole('group', { name: /not rated/ })).toBeVisible()
    await snap(ben, testInfo, 'gallery-two-guests-ben-sees-annas-pick')

    // Ben gives two stars: his own; Anna keeps her five (live and after a reload)
    await benFirst.getByRole('button', { name: '2 stars' }).click()
    await expect(benFirst.getByRole('group', { name: /2 of 5 stars/ })).toBeVisible()
    await ben.getByRole('button', { name: /^Open / }).first().click()
    await expect(ben.getByTestId('lightbox')).toContainText(/Anna ★★★★★/)
    await expect(ben.getByTestId('lightbox')).toContainText(/Ben ★★(?!★)/)
    await snap(ben, testInfo, 'gallery-two-guests-ben-lightbox')
    await anna.reload()
    await expect(anna.locator('.g-tile').first().getByRole('group', { name: /5 of 5 stars/ })).toBeVisible()
    await ben.reload()
    await expect(ben.locator('.g-tile').first().getByRole('group', { name: /2 of 5 stars/ })).toBeVisible()
    await expect(ben.locator('.g-tile').first()).toHaveClass(/g-tile--picked/)

    // Ben picks a second photo: Anna sees it live
    await ben.locator('.g-tile').nth(1).getByRole('button', { name: /^Pick / }).click()
    await expect(anna.getByTestId('selection-counter')).toContainText('2 of 4 picked')
    await expect(anna.locator('.g-tile').nth(1)).toHaveClass(/g-tile--picked/)
    await snap(anna, testInfo, 'gallery-two-guests-anna-sees-bens-pick')
  } finally {
    await annaContext.close()
    await benContext.close()
  }
})
