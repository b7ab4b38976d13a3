/** Query keys and small helpers of the portal. */
export const pk = {
  org: (orgId: string) => ['org', orgId] as const,
  folders: (orgId: string) => ['folders', orgId] as const,
  folder: (folderId: string) => ['folder', folderId] as const,
  folderPhotos: (folderId: string) => ['folder-photos', folderId] as const,
  albums: (orgId: string, filters?: object) => (filters ? (['albums', orgId, filters] as const) : (['albums', orgId] as const)),
  album: (albumId: string) => ['album', albumId] as const,
  albumPhotos: (albumId: string) => ['album-photos', albumId] as const,
  albumComments: (albumId: string) => ['album-comments', albumId] as const,
  albumActivity: (albumId: string) => ['album-activity', albumId] as const,
  albumAudit: (albumId: string) => ['album-audit', albumId] as const,
  members: (orgId: string) => ['members', orgId] as const,
  invitations: (orgId: string) => ['invitations', orgId] as const,
  providers: (orgId: string) => ['providers', orgId] as const,
}

export const ROLES = ['owner', 'admin', 'photographer', 'viewer', 'auditor'] as const
export type Role = (typeof ROLES)[number]

export const STATUS_LABELS: Record<string, string> = {
  draft: 'Draft',
  syncing: 'Syncing',
  ready: 'Ready',
  shared: 'Shared',
  selection_submitted: 'Selection submitted',
  editing: 'Editing',
  delivered: 'Delivered',
  changes_requested: 'Changes requested',
  approved: 'Approved',
  archived: 'Archived',
}

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString()
}

/** Copies text; resolves false when the browser refuses (the text stays visible to copy by hand). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    return false
  }
}
