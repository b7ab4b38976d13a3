/**
 * Journey: a studio owner invites a member, sees the invitation, renames the studio, and a
 * provider form shows the platform's field errors next to the fields.
 */
import { expect, test } from '@playwright/test'
import { bearer, createUser, signInWithTokens, snap } from './support'
import { ok } from './portal-support'

test('an owner manages members, invitations and settings', async ({ page, request }, testInfo) => {
  const owner = await createUser(request, 'Olga Owner')
  await ok<{ org_id: string }>(await request.post('/api/orgs', { headers: bearer(owner), data: { name: 'Olga Studio' } }))
  // a second member, through an invitation accepted over the API
  const member = await createUser(request, 'Max Member')
  await signInWithTokens(page, owner)
  await page.goto('/app/members')
  await expect(page.getByRole('heading', { name: 'Members' })).toBeVisible()
  await expect(page.getByRole('main').getByText('Olga Owner')).toBeVisible()

  // a bad address: the platform's field error shows next to the field
  await page.getByLabel('Email').fill('not-an-address@')
  await page.getByLabel('Role').selectOption('photographer')
  await page.getByLabel('Email').evaluate((el: HTMLInputElement) => (el.type = 'text')) // let the server judge it
  await page.getByRole('button', { name: 'Send invitation' }).click()
  await expect(page.locator('.pf-field--invalid').getByRole('alert')).toBeVisible()

  await page.getByLabel('Email').fill(member.email)
  await page.getByRole('button', { name: 'Send invitation' }).click()
  await expect(page.getByText(`Invitation sent to ${member.email}.`)).toBeVisible()
  await expect(page.getByRole('main').getByRole('listitem').filter({ hasText: member.email })).toBeVisible()
  await snap(page, testInfo, 'portal-members')

  // the settings: rename the studio, and a provider form with a missing field
  await page.getByRole('navigation', { name: 'Studio sections' }).getByRole('link', { name: 'Settings' }).click()
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible()
  const name = page.getByRole('textbox', { name: 'Studio name' })
  await name.fill('Olga & Co')
  await page.getByRole('button', { name: 'Save the name' }).click()
  await expect(page.getByText('Saved.')).toBeVisible()
  await expect(page.getByRole('combobox', { name: 'Studio', exact: true })).toContainText('Olga & Co')
  // the watermark: an uploaded PNG and a text, saved
  await page.getByLabel('Image (PNG)').setInputFiles({
    name: 'mark.png',
    mimeType: 'image/png',
    buffer: Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAYAAADED76LAAAAFklEQVR4nGP8//9/AwMewIRPcvgoAACaYwONiVbxwAAAAABJRU5ErkJggg==', 'base64'),
  })
  await expect(page.getByText(/Image [0-9a-f]{8} chosen/)).toBeVisible()
  await page.getByLabel('Text', { exact: true }).fill('© Olga & Co')
  await page.getByRole('button', { name: 'Save the watermark' }).click()
  await expect(page.getByText('Watermark saved.')).toBeVisible()
  await expect(page.getByText(/Current: “© Olga & Co” with an image/)).toBeVisible()
  await page.getByLabel('Provider to configure').selectOption('s3')
  await page.getByLabel('Access key id').fill('AKIAEXAMPLE')
  await page.getByLabel('Secret access key').fill('secret')
  await page.getByRole('button', { name: /Save Amazon S3/ }).click()
  await expect(page.locator('.pf-field--invalid', { hasText: 'Region' }).getByRole('alert')).toContainText(/required/)
  await snap(page, testInfo, 'portal-settings')
})
