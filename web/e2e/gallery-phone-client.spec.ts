/**
 * Journey: a client on a phone picks to the limit (and sees the limit message), rates with keys
 * in the lightbox, comments, filters, and sends the selection.
 */
import { expect, test } from '@playwright/test'
import { openAsGuest, sharedGallery } from './gallery-support'
import { snap } from './support'

test('a client on a phone picks to the limit, rates with keys, comments and submits', async ({ page, request }, testInfo) => {
  test.skip(testInfo.project.name !== 'phone', 'the phone journey runs on the Pixel viewport')
  const gallery = await sharedGallery(request, { selectionLimit: 3 })

  await page.goto(`/g/${gallery.token}`)
  await expect(page.getByRole('heading', { name: 'Anna & Ben’s wedding' })).toBeVisible()
  await snap(page, testInfo, 'gallery-1-guest-name')
  await openAsGuest(page, gallery.token, 'Anna')
  const counter = page.getByTestId('selection-counter')
  await expect(counter).toContainText('0 of 3 picked')
  await snap(page, testInfo, 'gallery-2-grid')

  // pick to the limit from the tiles
  for (let n = 1; n <= 3; n += 1) {
    await page.getByRole('button', { name: /^Pick / }).first().click()
    await expect(counter).toContainText(`${n} of 3 picked`)
  }
  await expect(page.getByTestId('limit-reached')).toContainText('that is the limit')
  // one more: the platform refuses (409) and the page says why; the optimistic pick rolls back
  await page.getByRole('button', { name: /^Pick / }).first().click()
  await expect(page.getByTestId('gallery-notice')).toContainText(/selection is full.*3/i)
  await expect(counter).toContainText('3 of 3 picked')
  await expect(page.getByRole('button', { name: /^Unpick / })).toHaveCount(3)
  await snap(page, testInfo, 'gallery-3-limit')

  // the lightbox: keys rate, colour and move
  await page.getByRole('button', { name: /^Open / }).first().click()
  const lightbox = page.getByTestId('lightbox')
  const title = lightbox.locator('.g-lightbox__title')
  await expect(lightbox).toBeVisible()
  await expect(title).toContainText('(1 of')
  await expect(lightbox.locator('img')).toBeVisible()
  await page.keyboard.press('4')
  await expect(lightbox.getByRole('group', { name: /4 of 5 stars/ })).toBeVisible()
  await page.keyboard.press('8')
  await expect(lightbox.getByRole('button', { name: /green/ })).toHaveAttribute('aria-pressed', 'true')
  await lightbox.getByLabel('Add a comment').fill('Love this one! Could it be a little warmer?')
  await lightbox.getByRole('button', { name: 'Send comment' }).click()
  await expect(lightbox.getByRole('listitem').filter({ hasText: 'Love this one!' })).toContainText('Anna')
  await snap(page, testInfo, 'gallery-4-lightbox')
  await title.click() // focus back on the dialog (not the text box) for keys
  await page.keyboard.press('ArrowRight')
  await expect(title).toContainText('(2 of')
  await page.keyboard.press('2')
  await expect(lightbox.getByRole('group', { name: /2 of 5 stars/ })).toBeVisible()
  await page.keyboard.press('Escape')
  await expect(lightbox).toBeHidden()

  // the tiles show it; the filters narrow the grid
  const first = page.locator('.g-tile').first()
  await expect(first.getByRole('group', { name: /4 of 5 stars/ })).toBeVisible()
  await expect(first.getByRole('img', { name: '1 comment' })).toBeVisible()
  await page.getByRole('radio', { name: /Rated/ }).click()
  await expect(page.getByTestId('thumb')).toHaveCount(2)
  await page.getByRole('radio', { name: /Commented/ }).click()
  await expect(page.getByTestId('thumb')).toHaveCount(1)
  await page.getByRole('radio', { name: /Picked/ }).click()
  await expect(page.getByTestId('thumb')).toHaveCount(3)
  await page.getByRole('radio', { name: /All/ }).click()

  // kept by the platform: a reload shows the same
  await page.reload()
  await expect(page.locator('.g-tile').first().getByRole('group', { name: /4 of 5 stars/ })).toBeVisible()
  await expect(counter).toContainText('3 of 3 picked')

  // send the selection, after a confirmation
  await page.getByRole('button', { name: 'Send selection' }).click()
  const confirm = page.getByRole('dialog', { name: 'Send your selection?' })
  await expect(confirm).toBeVisible()
  await snap(page, testInfo, 'gallery-5-submit-confirm')
  await confirm.getByRole('button', { name: 'Send 3 photos' }).click()
  await expect(confirm).toBeHidden()
  await expect(page.getByText('Your selection was sent to your photographer')).toBeVisible()
  await expect(page.getByRole('button', { name: 'Send selection' })).toHaveCount(0)
  await expect(page.getByRole('button', { name: /^Unpick / }).first()).toBeDisabled()
  await snap(page, testInfo, 'gallery-6-submitted')
})
