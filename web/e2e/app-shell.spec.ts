import { expect, test } from '@playwright/test'
import { createUser, signInWithTokens, snap, uniqueEmail } from './support'

test('an invitation asks to sign up, comes back to the invitation, and shows why accepting failed', async ({ page }, testInfo) => {
  await page.goto('/invite/not.a-real.invitation')
  await expect(page.getByRole('heading', { name: /invited/i })).toBeVisible()
  await snap(page, testInfo, 'invite-signed-out')
  await page.getByRole('link', { name: 'Sign up' }).click()
  await page.getByLabel('Your name').fill('Invited Person')
  await page.getByLabel('Email').fill(uniqueEmail('invited'))
  await page.getByLabel('Password').fill('a long enough password')
  await page.getByRole('button', { name: 'Sign up' }).click()
  await expect(page).toHaveURL(/\/invite\/not\.a-real\.invitation$/)
  await page.getByRole('button', { name: 'Accept the invitation' }).click()
  await expect(page.getByRole('alert')).toBeVisible()
  await snap(page, testInfo, 'invite-refused')
})

test('an expired access token is refreshed once and the page loads', async ({ page, request }) => {
  const account = await createUser(request, 'Refresh Me')
  await signInWithTokens(page, { access_token: 'expired.or.bogus', refresh_token: account.refresh_token })
  await page.goto('/app')
  await expect(page.getByText(`Signed in as ${account.email}`)).toBeVisible()
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('photoflow.tokens') ?? '{}') as { access_token?: string })
  expect(stored.access_token).not.toBe('expired.or.bogus')
})

test('a spent refresh token signs out to the sign-in page', async ({ page, request }) => {
  const account = await createUser(request)
  const refreshed = await request.post('/api/auth/refresh', { data: { refresh_token: account.refresh_token } })
  expect(refreshed.status()).toBe(200)
  await signInWithTokens(page, { access_token: 'bogus', refresh_token: account.refresh_token })
  await page.goto('/app')
  await expect(page).toHaveURL(/\/app\/signin\?next=%2Fapp$/)
  await expect(page.getByRole('heading', { name: /sign in/i })).toBeVisible()
})
