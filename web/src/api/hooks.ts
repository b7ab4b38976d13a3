/**
 * Queries shared by the portal and the gallery. Keep keys here so one page's mutation can
 * invalidate another's query (`queryClient.invalidateQueries({ queryKey: keys.me })`).
 */
import { useQuery } from '@tanstack/react-query'
import { api, call } from './client'

export const keys = {
  me: ['me'] as const,
  share: (token: string) => ['share', token] as const,
}

/** `GET /api/me`: the signed-in user and their studios (`orgs: [{org_id, name, role}]`). */
export function useMe() {
  return useQuery({ queryKey: keys.me, queryFn: () => call(api.GET('/api/me')) })
}
