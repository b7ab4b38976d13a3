/**
 * Journey: a photographer from sign-up to a delivered album, through the portal's pages; the
 * client's part (picks, submit) goes through the share API as the gallery would send it.
 */
import { expect, test } from '@playwright/test'
import { copyDemoPhotos, ok, testDirectory } from './portal-support'
import { snap, uniqueEmail } from './support'

test('a photographer goes from sign-up to a delivered album', async ({ page, request, context }, testInfo) => {
  test.setTimeout(120_000)
  await context.grantPermissions(['clipboard-read', 'clipboard-write']).catch(() => undefined)
  const dir = testDirectory('journey')
  const photoCount = copyDemoPhotos(dir)
  expect(photoCount).toBeGreaterThan(2)

  // sign up through the form
  await page.goto('/app/signup')
  await page.getByLabel('Your name').fill('Paula Photographer')
  await page.getByLabel('Email').fill(uniqueEmail('portal'))
  await page.getByLabel('Password').fill('a long enough password')
  await page.getByRole('button', { name: 'Sign up' }).click()
  await expect(page.getByRole('heading', { name: 'Your studios' })).toBeVisible()

  // create a studio
  await page.getByLabel('Studio name').fill('Paula’s Studio')
  await page.getByRole('button', { name: 'Create studio' }).click()
  await expect(page).toHaveURL(/\/app\/albums$/)
  await expect(page.getByRole('combobox', { name: 'Studio', exact: true })).toContainText('Paula’s Studio')
  await expect(page.getByText('No albums yet')).toBeVisible()

  // add a local folder and sync it
  await page.getByRole('navigation', { name: 'Studio sections' }).getByRole('link', { name: 'Folders' }).click()
  await page.getByRole('button', { name: 'Add a folder' }).click()
  const folderDialog = page.getByRole('dialog', { name: 'Add a folder' })
  await folderDialog.getByLabel('Location').fill(dir)
  await folderDialog.getByLabel('Folder name').fill('Wedding')
  await folderDialog.getByRole('button', { name: 'Add folder' }).click()
  await expect(page).toHaveURL(/\/app\/folders\/[0-9a-f-]+$/)
  await expect(page.getByRole('heading', { name: 'Wedding' })).toBeVisible()
  await page.getByRole('button', { name: 'Sync', exact: true }).click()
  await expect(page.getByText(/Last (full|incremental) sync completed/)).toBeVisible({ timeout: 30_000 })
  await expect(page.getByText(`${photoCount} files`, { exact: false }).first()).toBeVisible()
  await snap(page, testInfo, 'portal-folder-synced')

  // create an album on it
  await page.getByRole('navigation', { name: 'Studio sections' }).getByRole('link', { name: 'Albums' }).click()
  await page.getByRole('button', { name: 'New album' }).click()
  const albumDialog = page.getByRole('dialog', { name: 'New album' })
  await albumDialog.getByLabel('Title').fill('Anna & Ben')
  await expect(albumDialog.getByLabel('Folder')).toContainText('Wedding')
  await albumDialog.getByLabel('Client name').fill('Anna')
  await albumDialog.getByLabel('Client email').fill('anna@example.com')
  await albumDialog.getByLabel('Tags').fill('wedding, summer')
  await albumDialog.getByRole('button', { name: 'Create album' }).click()
  await expect(page).toHaveURL(/\/app\/albums\/[0-9a-f-]+$/)
  const albumId = page.url().split('/').pop()!
  const status = page.locator('.pf-album-header .pf-status')
  await expect(status).toHaveText('Draft')

  // sync the album; it becomes ready with the folder's photos
  await page.getByRole('button', { name: 'Sync photos' }).click()
  await expect(status).toHaveText('Ready', { timeout: 30_000 })
  await expect(page.getByText(`${photoCount} of ${photoCount} photos shown`)).toBeVisible({ timeout: 15_000 })

  // share: the client link is shown and copied
  await page.getByRole('button', { name: 'Share', exact: true }).click()
  const shareDialog = page.getByRole('dialog', { name: 'Share with the client' })
  await shareDialog.getByRole('button', { name: 'Create the link' }).click()
  const linkField = shareDialog.getByLabel('Client link')
  await expect(linkField).toHaveValue(/\/g\/[^/]+$/)
  const link = await linkField.inputValue()
  await shareDialog.getByRole('button', { name: 'Copy link' }).click()
  await expect(shareDialog.getByText(/Link copied|Copying was refused/)).toBeVisible()
  await snap(page, testInfo, 'portal-share-dialog')
  await shareDialog.getByRole('button', { name: 'Done', exact: true }).click()
  await expect(status).toHaveText('Shared')

  // the client picks two photos and submits (through the share API, as the gallery does)
  const token = decodeURIComponent(new URL(link).pathname.split('/').pop()!)
  const shared = await ok<{ photos: { items: Array<{ photo_id: string; name: string }> } }>(await request.get(`/api/share/${token}`))
  const [first, second] = shared.photos.items
  for (const photo of [first, second]) {
    await ok(await request.post(`/api/share/${token}/photos/${photo.photo_id}/select`, { headers: { 'X-Guest': 'Anna' } }))
  }
  await ok(await request.post(`/api/share/${token}/submit`, { headers: { 'X-Guest': 'Anna' } }))

  // the photographer sees the selection, live (no reload)
  await expect(status).toHaveText('Selection submitted', { timeout: 20_000 })
  await expect(page.getByTestId('selection-count')).toHaveText(/^2 picked/)
  await page.getByRole('group', { name: 'Show' }).getByRole('button', { name: /Picked/ }).click()
  await expect(page.getByText(`2 of ${photoCount} photos shown`)).toBeVisible()
  await expect(page.getByRole('listitem', { name: `${first.name}, picked` })).toBeVisible()
  await snap(page, testInfo, 'portal-selection-submitted')

  // starts editing, sets a photo's status, delivers
  await page.getByRole('button', { name: 'Start editing' }).click()
  await expect(status).toHaveText('Editing')
  const procSelect = page.getByLabel(`Editing status of ${first.name}`)
  await procSelect.selectOption('edited')
  await expect(procSelect).toHaveValue('edited')
  await expect
    .poll(async () => {
      const photos = (await page.evaluate(() => JSON.parse(localStorage.getItem('photoflow.tokens') ?? '{}'))) as { access_token: string }
      const answer = await request.get(`/api/albums/${albumId}/photos?limit=500`, { headers: { Authorization: `Bearer ${photos.access_token}` } })
      const body = (await answer.json()) as { items: Array<{ photo_id: string; proc_status: string }> }
      return body.items.find((p) => p.photo_id === first.photo_id)?.proc_status
    })
    .toBe('edited')
  await page.getByRole('button', { name: 'Deliver' }).click()

  // delivered: the badge says so and only the allowed buttons show
  await expect(status).toHaveText('Delivered')
  const workflow = page.getByRole('group', { name: 'Workflow' })
  await expect(workflow.getByRole('button', { name: 'Archive' })).toBeVisible()
  for (const gone of ['Deliver', 'Start editing', 'Sync photos', 'Reopen']) {
    await expect(workflow.getByRole('button', { name: gone, exact: true })).toHaveCount(0)
  }
  await expect(page.getByRole('button', { name: 'Create the link' })).toHaveCount(0)
  await snap(page, testInfo, 'portal-delivered')

  // the activity timeline and audit history tell the story
  await page.getByRole('tab', { name: 'Activity' }).click()
  await expect(page.getByRole('tabpanel').getByRole('listitem').first()).toBeVisible()
  await page.getByRole('tab', { name: 'Audit history' }).click()
  await expect(page.getByText(/AlbumDelivered|Delivered/).first()).toBeVisible()
  await page.getByRole('button', { name: 'Verify the chain' }).click()
  await expect(page.getByText(/The hash chain is whole/)).toBeVisible()
  await page.getByRole('tab', { name: 'Export' }).click()
  await page.getByRole('button', { name: 'Show the Lightroom filter' }).click()
  await expect(page.getByLabel('Lightroom filename filter')).toHaveValue(new RegExp(first.name.replace(/\.[^.]+$/, '')))
  await snap(page, testInfo, 'portal-export')

  // an erasure request: the client is forgotten, the album and its workflow stay
  await page.getByRole('button', { name: 'Forget the client…' }).click()
  const forgetDialog = page.getByRole('dialog', { name: 'Forget the client' })
  await expect(forgetDialog).toContainText('anna@example.com')
  await forgetDialog.getByRole('button', { name: 'Forget the client', exact: true }).click()
  await expect(page.getByText('Client forgotten')).toBeVisible()
  await expect(page.locator('.pf-album-header')).toContainText('For [forgotten] <[forgotten]>')
  await expect(page.locator('.pf-album-header')).not.toContainText('anna@example.com')
  await expect(status).toHaveText('Delivered')

  // the albums list filters by status and searches
  await page.getByRole('navigation', { name: 'Studio sections' }).getByRole('link', { name: 'Albums' }).click()
  await page.getByLabel('Status').selectOption('delivered')
  await expect(page.getByRole('link', { name: 'Anna & Ben' })).toBeVisible()
  await expect(page.locator('.pf-card .pf-status')).toHaveText('Delivered')
  await snap(page, testInfo, 'portal-albums')
  await page.getByLabel('Status').selectOption('shared')
  await expect(page.getByText('No album matches these filters.')).toBeVisible()
  await page.getByLabel('Status').selectOption('')
  await page.getByRole('searchbox', { name: 'Search' }).fill('Anna')
  await expect(page.getByRole('link', { name: 'Anna & Ben' })).toBeVisible()
})
