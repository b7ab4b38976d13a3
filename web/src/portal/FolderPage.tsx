import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { Link, useParams } from 'react-router'
import { api, call, type Schemas } from '../api/client'
import { Button, ProblemMessage, ProgressBar, Spinner } from '../ui'
import { SelectField } from '../ui/SelectField'
import { MemberImage } from './images'
import { useFolder } from './portalHooks'
import { formatTime, pk } from './queries'
import { canWrite, useStudio } from './studio'

type Folder = Schemas['FolderView']

/** The sync and render bars of a folder. */
export function FolderProgress({ folder, compact = false }: { folder: Folder; compact?: boolean }) {
  const sync = folder.sync
  const r = folder.renditions
  return (
    <div className="pf-stack-sm">
      {sync?.state === 'running' && (
        <ProgressBar label={`Syncing ${compact ? folder.name : 'folder'}`} value={sync.total ? (sync.processed ?? 0) : null} max={sync.total ?? 100} />
      )}
      {!compact && sync && sync.state !== 'running' && (
        <p className={sync.state === 'failed' ? 'pf-error-text' : 'pf-muted'}>
          {sync.state === 'failed'
            ? `The last sync failed${sync.finished_at ? ` (${formatTime(sync.finished_at)})` : ''}: ${sync.error ?? 'no reason given'}`
            : `Last ${sync.mode} sync completed ${formatTime(sync.finished_at)}: ${sync.processed ?? sync.total ?? 0} files looked at.`}
        </p>
      )}
      {r && r.total > 0 && (!compact || r.ready + r.failed < r.total) && (
        <ProgressBar label={compact ? `Rendering ${folder.name}` : 'Rendering previews'} value={r.ready} max={r.total} />
      )}
      {!compact && r && r.failed > 0 && <p className="pf-error-text">{r.failed} photos could not be rendered.</p>}
    </div>
  )
}

export function FolderPage() {
  const { folderId = '' } = useParams()
  const folder = useFolder(folderId)
  const { studios } = useStudio()
  const role = studios.find((s) => s.org_id === folder.data?.org_id)?.role
  if (folder.isPending) return <main className="pf-page"><Spinner label="Loading the folder" /></main>
  if (folder.error)
    return (
      <main className="pf-page pf-stack">
        <h1>Folder</h1>
        <ProblemMessage error={folder.error}>
          <p>
            <Link to="/app/folders">Back to the folders</Link>
          </p>
        </ProblemMessage>
      </main>
    )
  const f = folder.data
  return (
    <main className="pf-page pf-stack">
      <p className="pf-crumbs">
        <Link to="/app/folders">Folders</Link> /
      </p>
      <div className="pf-heading-row">
        <h1>{f.name}</h1>
        {canWrite(role) && <SyncControl folder={f} />}
      </div>
      <p className="pf-muted">
        {f.provider} · <code>{f.location}</code> · {f.file_count} files
      </p>
      <section aria-label="Progress" className="pf-panel">
        <FolderProgress folder={f} />
        {!f.sync && <p className="pf-muted">Never synced: press Sync to read the folder’s photos.</p>}
      </section>
      <FolderPhotos folderId={f.folder_id} />
    </main>
  )
}

function SyncControl({ folder }: { folder: Folder }) {
  const client = useQueryClient()
  const [mode, setMode] = useState<'incremental' | 'full'>('incremental')
  const sync = useMutation({
    mutationFn: () =>
      call(api.POST('/api/storage/folders/{folder_id}/sync', { params: { path: { folder_id: folder.folder_id } }, body: { mode } })),
    onSuccess: (accepted) => {
      client.setQueryData<Folder>(pk.folder(folder.folder_id), (old) =>
        old && old.sync?.state !== 'running'
          ? {
              ...old,
              sync: {
                sync_id: accepted.sync_id,
                mode,
                state: 'running',
                processed: 0,
                total: null,
                started_at: new Date().toISOString(),
                finished_at: null,
                error: null,
                requested_mode: null,
              },
            }
          : old,
      )
      void client.invalidateQueries({ queryKey: pk.folder(folder.folder_id) })
    },
  })
  const running = folder.sync?.state === 'running'
  return (
    <div className="pf-inline-form">
      <SelectField
        label="Sync mode"
        value={mode}
        onChange={(e) => setMode(e.target.value as 'incremental' | 'full')}
        options={[
          { value: 'incremental', label: 'Incremental (changes only)' },
          { value: 'full', label: 'Full (read everything)' },
        ]}
      />
      <Button onClick={() => sync.mutate()} busy={sync.isPending} disabled={running}>
        {running ? 'Syncing…' : 'Sync'}
      </Button>
      {sync.error && <ProblemMessage error={sync.error} />}
    </div>
  )
}

function FolderPhotos({ folderId }: { folderId: string }) {
  const photos = useInfiniteQuery({
    queryKey: pk.folderPhotos(folderId),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      call(
        api.GET('/api/storage/folders/{folder_id}/photos', {
          params: { path: { folder_id: folderId }, query: { limit: 60, cursor: pageParam } },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor,
  })
  const items = photos.data?.pages.flatMap((p) => p.items) ?? []
  return (
    <section aria-labelledby="folder-photos" className="pf-stack">
      <h2 id="folder-photos">Photos</h2>
      {photos.isPending && <Spinner label="Loading the photos" />}
      {photos.error && <ProblemMessage error={photos.error} />}
      {photos.data && items.length === 0 && <p>No photos yet.</p>}
      {items.length > 0 && (
        <ul className="pf-folder-grid">
          {items.map((p) => (
            <li key={p.file_id} className="pf-tile">
              <MemberImage url={`/api/storage/files/${p.file_id}/thumbnail?folder_id=${folderId}`} alt={p.name} />
              <span className="pf-tile__name">{p.name}</span>
            </li>
          ))}
        </ul>
      )}
      {photos.hasNextPage && (
        <Button variant="secondary" busy={photos.isFetchingNextPage} onClick={() => void photos.fetchNextPage()}>
          Show more photos
        </Button>
      )}
    </section>
  )
}
