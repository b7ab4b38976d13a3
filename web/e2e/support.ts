/**
 * Helpers shared by the journeys. They talk to the API with Playwright's `request` fixture
 * (same origin as the pages) to set the scene quickly, and use the pages for what is tested.
 */
import { expect, type APIRequestContext, type Page, type TestInfo } from '@playwright/test'

export interface Account {
  name: string
  email: string
  password: string
  access_token: string
  refresh_token: string
}

let counter = 0

/** An address no other test (or earlier run) has used. */
export function uniqueEmail(prefix = 'web'): string {
  counter += 1
  return `${prefix}-${Date.now().toString(36)}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`
}

/** Registers and signs in a new user through the API; returns the credentials and tokens. */
export async function createUser(request: APIRequestContext, name = 'Test Photographer'): Promise<Account> {
  const email = uniqueEmail()
  const password = 'correct horse battery staple'
  const registered = await request.post('/api/auth/register', { data: { email, password, name } })
  expect(registered.status(), await registered.text()).toBe(201)
  const login = await request.post('/api/auth/login', { data: { email, password } })
  expect(login.status(), await login.text()).toBe(200)
  const tokens = (await login.json()) as { access_token: string; refresh_token: string }
  return { name, email, password, ...tokens }
}

/** `Authorization` header for direct API calls as `account`. */
export function bearer(account: Pick<Account, 'access_token'>): Record<string, string> {
  return { Authorization: `Bearer ${account.access_token}` }
}

/** Signs in through the sign-in form, then waits for the portal. */
export async function signInThroughForm(page: Page, account: Pick<Account, 'email' | 'password'>): Promise<void> {
  await page.goto('/app/signin')
  await page.getByLabel('Email').fill(account.email)
  await page.getByLabel('Password').fill(account.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('heading', { name: 'Your studios' })).toBeVisible()
}

/**
 * Signs in without the form: stores `account`'s tokens where the app keeps them
 * (localStorage `photoflow.tokens`, src/auth/tokens.ts) before any page script runs.
 */
export async function signInWithTokens(page: Page, account: Pick<Account, 'access_token' | 'refresh_token'>): Promise<void> {
  await page.addInitScript((tokens) => {
    localStorage.setItem('photoflow.tokens', JSON.stringify(tokens))
  }, { access_token: account.access_token, refresh_token: account.refresh_token })
}

/** A full-page screenshot kept as a test artefact (test-results/…), named for the step. */
export async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`)
  await page.screenshot({ path, fullPage: true })
  await testInfo.attach(name, { path, contentType: 'image/png' })
}
