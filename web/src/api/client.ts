/**
 * THE way to call the platform: `api.GET('/api/me')`, `api.POST('/api/albums/{album_id}/share',
 * { params: { path: { album_id } }, body: {...} })`. Paths, parameters, bodies and answers are
 * typed from the platform's OpenAPI document (`npm run api` generates ./schema.d.ts), so a
 * contract change that breaks a page fails `npm run build`.
 *
 * The middleware:
 * - adds `Authorization: Bearer <access token>` when signed in;
 * - on a 401, refreshes the tokens once (`POST /api/auth/refresh`, shared by concurrent calls)
 *   and replays the call; when the refresh fails the tokens are dropped (signed out);
 * - turns every error answer into a thrown `ApiProblem` (type, title, detail, errors[]), so
 *   TanStack Query's `error` is always an `ApiProblem`.
 *
 * Use `call(api.GET(...))` to get the answer's body directly. No other module calls `fetch`.
 */
import createClient, { type Middleware } from 'openapi-fetch'
import { getTokens, setTokens } from '../auth/tokens'
import { ApiProblem, networkProblem } from './problem'
import type { components, paths } from './schema'

export type Schemas = components['schemas']
export { ApiProblem } from './problem'

export const api = createClient<paths>({ baseUrl: globalThis.location?.origin ?? '' })

const replayable = new Map<string, Request>()
let refreshing: Promise<boolean> | null = null

function isAuthPath(url: string): boolean {
  return new URL(url, 'http://x').pathname.startsWith('/api/auth/')
}

/** One refresh at a time: concurrent 401s wait for the same one. */
export function refreshTokens(): Promise<boolean> {
  refreshing ??= (async () => {
    const current = getTokens()
    if (!current) return false
    try {
      const { data } = await api.POST('/api/auth/refresh', { body: { refresh_token: current.refresh_token } })
      if (!data) return false
      setTokens({ access_token: data.access_token, refresh_token: data.refresh_token })
      return true
    } catch {
      setTokens(null) // spent or revoked: the user signs in again
      return false
    }
  })().finally(() => {
    refreshing = null
  })
  return refreshing
}

const auth: Middleware = {
  onRequest({ request, id }) {
    const tokens = getTokens()
    if (tokens && !request.headers.has('Authorization')) {
      request.headers.set('Authorization', `Bearer ${tokens.access_token}`)
    }
    if (tokens && !isAuthPath(request.url)) replayable.set(id, request.clone())
    return request
  },
  async onResponse({ response, id, options }) {
    const original = replayable.get(id)
    replayable.delete(id)
    let answer = response
    if (answer.status === 401 && original && (await refreshTokens())) {
      const tokens = getTokens()
      if (tokens) original.headers.set('Authorization', `Bearer ${tokens.access_token}`)
      answer = await options.fetch(original)
    }
    if (!answer.ok) throw await ApiProblem.from(answer)
    return answer
  },
  onError({ error, id }) {
    replayable.delete(id)
    if (error instanceof ApiProblem) return error
    return networkProblem(error)
  },
}

api.use(auth)

/**
 * The body of a successful answer (`undefined` for 204), for `useQuery`/`useMutation`:
 * `queryFn: () => call(api.GET('/api/me'))`. Errors were already thrown as `ApiProblem`.
 */
export async function call<T>(request: Promise<{ data?: T; response: Response }>): Promise<T> {
  const { data } = await request
  return data as T
}
