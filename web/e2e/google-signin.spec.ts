import { expect, test, type Page } from '@playwright/test'
import { snap } from './support'

/**
 * Google sign-in, with Google's script replaced: accounts.google.com is unreachable here, so
 * `https://accounts.google.com/gsi/client` is answered with a tiny stand-in for
 * `google.accounts.id` whose button hands the callback an ID token. The platform checks that
 * token for real (google-auth against the Google stand-in's certificates,
 * tests/support/google.py); tests/e2e/test_web_journeys.py mints one per project into
 * PHOTOFLOW_E2E_GOOGLE_ID_TOKENS: `{"desktop": {"email", "id_token"}, "phone": {...}}`.
 */

// No bypassCSP: the pages' policy (queries/web_pages.py) lists Google's script by its address,
// which the route below serves, so this also checks the policy lets it run.

interface GoogleUser {
  email: string
  id_token: string
}

const minted = JSON.parse(process.env.PHOTOFLOW_E2E_GOOGLE_ID_TOKENS ?? '{}') as Record<string, GoogleUser | undefined>

const FAKE_GSI = `
window.google = { accounts: { id: {
  initialize(config) { window.__gsi = config },
  renderButton(parent, options) {
    const button = document.createElement('button')
    button.type = 'button'
    button.textContent = options && options.text === 'signup_with' ? 'Sign up with Google' : 'Sign in with Google'
    button.addEventListener('click', () => window.__gsi.callback({ credential: window.__gsiCredential, select_by: 'btn' }))
    parent.appendChild(button)
  },
} } }
`

async function fakeGoogle(page: Page, credential: string): Promise<void> {
  await page.addInitScript((token) => {
    ;(window as Window & { __gsiCredential?: string }).__gsiCredential = token
  }, credential)
  await page.route('https://accounts.google.com/gsi/client', (route) =>
    route.fulfill({ status: 200, contentType: 'text/javascript', body: FAKE_GSI }),
  )
}

test('signing in with Google lands in the studio portal, signed in', async ({ page }, testInfo) => {
  const user = minted[testInfo.project.name]
  test.skip(!user, 'PHOTOFLOW_E2E_GOOGLE_ID_TOKENS has no token for this project (tests/e2e/test_web_journeys.py mints them)')
  if (!user) return
  await fakeGoogle(page, user.id_token)
  await page.goto('/app/signin?next=%2Fapp')
  await expect(page.getByRole('heading', { name: 'Sign in to PhotoFlow' })).toBeVisible()
  const google = page.getByRole('button', { name: 'Sign in with Google' })
  await expect(google).toBeVisible()
  await snap(page, testInfo, 'google-01-signin')

  await google.click()
  await expect(page).toHaveURL(/\/app$/)
  await expect(page.getByRole('heading', { name: 'Your studios' })).toBeVisible()
  await expect(page.getByText(`Signed in as ${user.email}`)).toBeVisible()
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible()
  const stored = await page.evaluate(() => localStorage.getItem('photoflow.tokens'))
  expect(JSON.parse(stored ?? '{}')).toEqual({ access_token: expect.any(String), refresh_token: expect.any(String) })
  await snap(page, testInfo, 'google-02-portal')
})

test('a Google token the platform refuses says why on the sign-up page', async ({ page }, testInfo) => {
  test.skip(Object.keys(minted).length === 0, 'the platform under test may have no Google client id')
  await fakeGoogle(page, 'not.a.google-token')
  await page.goto('/app/signup')
  await page.getByRole('button', { name: 'Sign up with Google' }).click()
  const alert = page.getByRole('alert')
  await expect(alert).toBeVisible()
  await expect(alert).not.toHaveText(/^\s*$/)
  await expect(page).toHaveURL(/\/app\/signup$/)
  expect(await page.evaluate(() => localStorage.getItem('photoflow.tokens'))).toBeNull()
  await snap(page, testInfo, 'google-03-refused')
})
