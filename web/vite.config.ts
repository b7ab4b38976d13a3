import { resolve } from 'node:path'
import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin } from 'vite'

/** The platform's address for `npm run dev` (the API and the mail links live there). */
const api = process.env.PHOTOFLOW_API ?? 'http://127.0.0.1:8000'

/**
 * In `npm run dev`, answer the single-page app's paths with `app.html`, as the platform does
 * in production (queries/web_pages.py): `/app/...`, `/g/<token>`, `/invite/<token>`.
 */
function appPages(): Plugin {
  return {
    name: 'photoflow-app-pages',
    configureServer(server) {
      server.middlewares.use((req, _res, next) => {
        const path = (req.url ?? '').split('?')[0] ?? ''
        if (path === '/app' || /^\/(app|g|invite)\//.test(path)) {
          if (!/\.[a-z0-9]+$/i.test(path) || path.endsWith('.html')) req.url = '/app.html'
        }
        next()
      })
    },
  }
}

export default defineConfig({
  plugins: [react(), appPages()],
  server: {
    port: 5173,
    proxy: { '/api': { target: api, changeOrigin: false } },
  },
  build: {
    // two pages: the landing page (index.html, no React at all) and the app (app.html)
    rollupOptions: {
      input: { index: resolve(import.meta.dirname, 'index.html'), app: resolve(import.meta.dirname, 'app.html') },
    },
  },
})
