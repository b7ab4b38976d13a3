import { defineConfig, devices } from '@playwright/test'

/**
 * Browser journeys against a running platform (it serves the built app and the API on one
 * origin). `tests/e2e/test_web_journeys.py` starts a whole platform and sets
 * PHOTOFLOW_BASE_URL; by hand: `make run`, then `npm run test:e2e` (default :8000).
 * The browser is Debian's chromium (`make chromium`): no browser download here.
 */
const baseURL = process.env.PHOTOFLOW_BASE_URL ?? 'http://127.0.0.1:8000'
const BULK = /portal-live-sync\.spec\.ts/
const executablePath = process.env.PHOTOFLOW_CHROMIUM ?? '/usr/bin/chromium'
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0

const launchOptions = {
  executablePath,
  args: asRoot ? ['--no-sandbox'] : [],
}

export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: process.env.CI ? 2 : undefined,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list'], ['html', { outputFolder: 'playwright-report', open: 'never' }]],
  use: {
    baseURL,
    headless: true,
    screenshot: 'on',
    trace: 'retain-on-failure',
  },
  projects: [
    { name: 'desktop', testIgnore: BULK, use: { ...devices['Desktop Chrome'], channel: undefined, launchOptions } },
    { name: 'phone', testIgnore: BULK, use: { ...devices['Pixel 7'], launchOptions } },
    // A sync of thousands of files keeps the render worker busy for a while after it: it runs
    // once the others are done, so their timings never share the machine with it.
    {
      name: 'bulk',
      testMatch: BULK,
      dependencies: ['desktop', 'phone'],
      use: { ...devices['Desktop Chrome'], channel: undefined, launchOptions },
    },
  ],
})
