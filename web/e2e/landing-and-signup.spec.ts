import { expect, test } from '@playwright/test'
import { snap, uniqueEmail } from './support'

test('the landing page says what PhotoFlow is, and signing up lands in the studio portal', async ({ page }, testInfo) => {
  const scripts: string[] = []
  page.on('request', (request) => {
    if (request.resourceType() === 'script') scripts.push(request.url())
  })
  await page.goto('/')
  await expect(page.getByRole('heading', { level: 1, name: /client proofing/i })).toBeVisible()
  await expect(page.getByRole('heading', { name: 'A selection limit that holds' })).toBeVisible()
  expect(scripts, 'the landing page loads no script').toEqual([])
  await snap(page, testInfo, '01-landing')

  const signUp = page.getByRole('link', { name: /sign up/i }).first()
  await expect(signUp).toHaveAttribute('href', '/app/signup')
  await signUp.click()
  await expect(page).toHaveURL(/\/app\/signup$/)
  await expect(page.getByRole('heading', { name: /create your photoflow account/i })).toBeVisible()

  const email = uniqueEmail('signup')
  await page.getByLabel('Your name').fill('Ada Lens')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill('short')
  await page.getByRole('button', { name: 'Sign up' }).click()
  await expect(page.getByRole('alert').filter({ hasText: /at least 8/i })).toBeVisible()
  await snap(page, testInfo, '02-signup-field-error')

  await page.getByLabel('Password').fill('a long enough password')
  await page.getByRole('button', { name: 'Sign up' }).click()
  await expect(page).toHaveURL(/\/app$/)
  await expect(page.getByRole('heading', { name: 'Your studios' })).toBeVisible()
  await expect(page.getByText(`Signed in as ${email}`)).toBeVisible()
  await snap(page, testInfo, '03-portal')

  await page.reload()
  await expect(page.getByRole('heading', { name: 'Your studios' })).toBeVisible()
  await page.getByRole('button', { name: 'Sign out' }).click()
  await expect(page).toHaveURL(/\/app\/signin\?next=/)
})

test('an unknown share link says it was not found', async ({ page }, testInfo) => {
  await page.goto('/g/not-a-real-token')
  await expect(page.getByRole('heading', { name: 'Gallery not found' })).toBeVisible()
  await expect(page.getByRole('alert')).toBeVisible()
  await snap(page, testInfo, 'gallery-not-found')
})
