/**
 * `make bench gallery`'s browser half: open a client gallery in Debian's Chromium, time the
 * first thumbnail on screen, then scroll top to bottom and record every frame's duration
 * through requestAnimationFrame (the Performance API's clock). Prints one JSON line.
 *
 *   node bench/gallery.mjs <base-url> <share-token> [screens-per-frame]
 *
 * screens-per-frame: how far each frame scrolls, in viewport heights (default 0.25, a brisk
 * fling of about 14,000 CSS px a second at 60 frames a second).
 */
import { chromium } from 'playwright-core'

const [baseUrl, token, perFrame = '0.25'] = process.argv.slice(2)
if (!baseUrl || !token) {
  console.error('usage: node bench/gallery.mjs <base-url> <share-token>')
  process.exit(2)
}
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0
const browser = await chromium.launch({
  executablePath: process.env.PHOTOFLOW_CHROMIUM ?? '/usr/bin/chromium',
  args: asRoot ? ['--no-sandbox'] : [],
})
try {
  const page = await browser.newPage({ viewport: { width: 412, height: 915 }, deviceScaleFactor: 2.6 })
  // the guest's name is asked once per link: answer it before the page asks
  await page.addInitScript((key) => localStorage.setItem(key, 'Bench guest'), `photoflow.guest.${token}`)
  await page.goto(`${baseUrl}/g/${token}`, { waitUntil: 'commit' })
  const firstThumbnailMs = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const seen = () => {
          const shown = [...document.querySelectorAll('img[data-testid="thumb"]')].some(
            (img) => img.complete && img.naturalWidth > 0,
          )
          if (shown) resolve(performance.now())
          else requestAnimationFrame(seen)
        }
        seen()
      }),
  )
  const scroll = await page.evaluate(
    (screens) =>
      new Promise((resolve) => {
        const frames = []
        let last = performance.now()
        const step = Math.round(window.innerHeight * screens)
        const tick = (now) => {
          frames.push(now - last)
          last = now
          const bottom = document.documentElement.scrollHeight - window.innerHeight
          if (window.scrollY >= bottom - 1) {
            resolve({ frames, height: document.documentElement.scrollHeight })
            return
          }
          window.scrollBy(0, step)
          requestAnimationFrame(tick)
        }
        requestAnimationFrame((now) => {
          last = now
          requestAnimationFrame(tick)
        })
      }),
    Number(perFrame),
  )
  const thumbs = await page.locator('img[data-testid="thumb"]').count()
  console.log(JSON.stringify({ firstThumbnailMs, frames: scroll.frames, height: scroll.height, thumbsInDom: thumbs }))
} finally {
  await browser.close()
}
