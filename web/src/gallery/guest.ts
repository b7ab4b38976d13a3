/**
 * The guest's name on this link, remembered in localStorage per share token and sent as
 * `X-Guest` on every share call (picks, ratings and comments are kept per guest).
 */
const storageKey = (token: string) => `photoflow.guest.${token}`

export function loadGuest(token: string): string | null {
  try {
    const name = localStorage.getItem(storageKey(token))
    return name && name.trim() ? name : null
  } catch {
    return null
  }
}

export function saveGuest(token: string, name: string): void {
  try {
    localStorage.setItem(storageKey(token), name)
  } catch {
    // private mode: the name lasts for this page only
  }
}

/**
 * Why a name cannot be sent as an HTTP header, or null when it can. Header values are Latin-1
 * bytes (the browser refuses anything else) and the platform keeps the first 64 characters.
 */
export function guestNameProblem(name: string): string | null {
  const trimmed = name.trim()
  if (!trimmed) return 'Please enter your name.'
  if (trimmed.length > 64) return 'Please use at most 64 characters.'
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) return 'Please use letters, digits and spaces.'
  if (/[^\u0020-\u00ff]/.test(trimmed)) return 'Please write your name in Latin letters (accents are fine).'
  return null
}

/** Own picks on this link (the listing's `selected` is any guest's pick: see the report). */
const picksKey = (token: string, guest: string) => `photoflow.picks.${token}.${guest}`

export function loadOwnPicks(token: string, guest: string): Set<string> {
  try {
    const raw = localStorage.getItem(picksKey(token, guest))
    const ids = raw ? (JSON.parse(raw) as unknown) : []
    return new Set(Array.isArray(ids) ? ids.map(String) : [])
  } catch {
    return new Set()
  }
}

export function saveOwnPicks(token: string, guest: string, picks: Set<string>): void {
  try {
    localStorage.setItem(picksKey(token, guest), JSON.stringify([...picks]))
  } catch {
    // not remembered across visits; the listing still shows every pick
  }
}
