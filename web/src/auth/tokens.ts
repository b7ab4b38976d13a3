/**
 * The signed-in user's tokens, kept in localStorage so a reload (or another tab) stays signed
 * in. The API client reads them for every call and replaces them when it refreshes; the auth
 * context listens to changes (`subscribeTokens`) to show sign-in when they are gone.
 */

export interface Tokens {
  access_token: string
  refresh_token: string
}

const KEY = 'photoflow.tokens'
const listeners = new Set<() => void>()

export function getTokens(): Tokens | null {
  try {
    const raw = localStorage.getItem(KEY)
    if (!raw) return null
    const parsed = JSON.parse(raw) as Partial<Tokens>
    if (typeof parsed.access_token !== 'string' || typeof parsed.refresh_token !== 'string') return null
    return { access_token: parsed.access_token, refresh_token: parsed.refresh_token }
  } catch {
    return null
  }
}

export function setTokens(tokens: Tokens | null): void {
  if (tokens) {
    localStorage.setItem(KEY, JSON.stringify({ access_token: tokens.access_token, refresh_token: tokens.refresh_token }))
  } else {
    localStorage.removeItem(KEY)
  }
  listeners.forEach((listener) => listener())
}

export function subscribeTokens(listener: () => void): () => void {
  listeners.add(listener)
  const fromOtherTab = (event: StorageEvent) => {
    if (event.key === KEY) listener()
  }
  window.addEventListener('storage', fromOtherTab)
  return () => {
    listeners.delete(listener)
    window.removeEventListener('storage', fromOtherTab)
  }
}
