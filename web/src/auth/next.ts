/** Where to go after signing in: `?next=` when it is a path of this site, else the studio. */
export function nextPath(search: string): string {
  const next = new URLSearchParams(search).get('next')
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/app'
}

/** `/app/signin?next=<path>`: sign in, then come back to `path`. */
export function signInPath(path: string, page: 'signin' | 'signup' = 'signin'): string {
  return `/app/${page}?next=${encodeURIComponent(path)}`
}
