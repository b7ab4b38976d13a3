/**
 * Read-your-writes across pages, per aggregate id.
 *
 * A command answers a `consistency_token`; the reads of that aggregate that follow send it back
 * as `X-Consistency-Token`, so a page opened straight after a write (a new album, a new folder)
 * waits for the read tables instead of answering 404 or the old state.
 *
 * Live events name the newest version the platform recorded. The read tables trail the stream
 * by a moment, so a read that comes back older than an announced version is read again shortly,
 * for a bounded time (a page never polls forever for a version it cannot see).
 */

const tokens = new Map<string, string>()
const announced = new Map<string, { version: number; until: number }>()

/** How often, and for how long at most, a read older than an announced version is repeated. */
const CATCH_UP_MS = 400
const CATCH_UP_FOR_MS = 20_000

export function rememberWrite(id: string, token: string | null | undefined): void {
  if (token) tokens.set(id, token)
}

/** `{ 'X-Consistency-Token': ... }` after a write of this aggregate, else nothing. */
export function consistency(id: string): { 'X-Consistency-Token'?: string } {
  const token = tokens.get(id)
  return token ? { 'X-Consistency-Token': token } : {}
}

/** A live event said the aggregate reached `version`. */
export function announceVersion(id: string, version: number | undefined): void {
  if (version === undefined) return
  const known = announced.get(id)
  if (!known || known.version < version) announced.set(id, { version, until: Date.now() + CATCH_UP_FOR_MS })
}

/** A `refetchInterval`: read again soon while the copy on screen is older than announced. */
export function catchUpInterval(id: string, shown: number | undefined): number | false {
  const known = announced.get(id)
  if (!known || shown === undefined) return false
  if (shown >= known.version || Date.now() > known.until) {
    announced.delete(id)
    return false
  }
  return CATCH_UP_MS
}
