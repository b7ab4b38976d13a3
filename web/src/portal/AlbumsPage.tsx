import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useDeferredValue, useState, type FormEvent } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { api, call, type Schemas } from '../api/client'
import { ApiProblem } from '../api/problem'
import { rememberWrite } from '../api/writes'
import { Button, Dialog, Field, ProblemMessage, Spinner } from '../ui'
import { SelectField } from '../ui/SelectField'
import { useFolders } from './portalHooks'
import { formatTime, pk, STATUS_LABELS, statusLabel } from './queries'
import { canWrite, useStudio } from './studio'

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`pf-status pf-status--${status}`} data-status={status}>
      {statusLabel(status)}
    </span>
  )
}

export function AlbumsPage() {
  const { studio } = useStudio()
  const orgId = studio!.org_id
  const [params, setParams] = useSearchParams()
  const status = params.get('status') ?? ''
  const tag = params.get('tag') ?? ''
  const [q, setQ] = useState(params.get('q') ?? '')
  const query = useDeferredValue(q.trim())
  const [creating, setCreating] = useState(false)
  const filters = { status, tag, q: query }
  const albums = useQuery({
    queryKey: pk.albums(orgId, filters),
    queryFn: () =>
      call(
        api.GET('/api/orgs/{org_id}/albums', {
          params: { path: { org_id: orgId }, query: { limit: 500, status: (status || undefined) as Schemas['AlbumQuery']['status'], tag: tag || undefined, q: query || undefined } },
        }),
      ),
    placeholderData: keepPreviousData,
  })
  const setParam = (name: string, value: string) => {
    const next = new URLSearchParams(params)
    if (value) next.set(name, value)
    else next.delete(name)
    setParams(next, { replace: true })
  }
  return (
    <main className="pf-page pf-stack">
      <div className="pf-heading-row">
        <h1>Albums</h1>
        {canWrite(studio?.role) && (
          <Dialog title="New album" description="An album of a folder’s photos, for one client." open={creating} onOpenChange={setCreating} trigger={<Button>New album</Button>}>
            <CreateAlbumForm orgId={orgId} onDone={() => setCreating(false)} />
          </Dialog>
        )}
      </div>
      <form className="pf-filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <Field
          label="Search"
          type="search"
          value={q}
          placeholder="Title or client"
          onChange={(e) => {
            setQ(e.target.value)
            setParam('q', e.target.value.trim())
          }}
        />
        <SelectField
          label="Status"
          value={status}
          onChange={(e) => setParam('status', e.target.value)}
          options={[{ value: '', label: 'Any status' }, ...Object.entries(STATUS_LABELS).map(([value, label]) => ({ value, label }))]}
        />
        <Field label="Tag" value={tag} onChange={(e) => setParam('tag', e.target.value.trim())} placeholder="e.g. wedding" />
      </form>
      {albums.isPending && <Spinner label="Loading the albums" />}
      {albums.error && (
        <ProblemMessage error={albums.error}>
          <Button variant="secondary" onClick={() => void albums.refetch()}>
            Try again
          </Button>
        </ProblemMessage>
      )}
      {albums.data && albums.data.items.length === 0 && (
        <p>{status || tag || query ? 'No album matches these filters.' : 'No albums yet. Add a folder, then create an album on it.'}</p>
      )}
      {albums.data && albums.data.items.length > 0 && (
        <ul className="pf-cards" aria-busy={albums.isFetching || undefined}>
          {albums.data.items.map((a) => (
            <li key={a.album_id} className="pf-card pf-stack-sm">
              <span className="pf-card__head">
                <Link className="pf-card__title" to={`/app/albums/${a.album_id}`}>
                  {a.title}
                </Link>
                <StatusBadge status={a.status} />
              </span>
              <span className="pf-muted">
                {String(a.client.name ?? '')} · {a.photo_count} photos · {a.selection_count}
                {a.selection_limit ? ` / ${a.selection_limit}` : ''} picked · updated {formatTime(a.updated_at)}
              </span>
              {a.tags.length > 0 && (
                <span className="pf-tags">
                  {a.tags.map((t) => (
                    <button key={t} type="button" className="pf-tag" onClick={() => setParam('tag', t)} aria-label={`Show albums tagged ${t}`}>
                      #{t}
                    </button>
                  ))}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </main>
  )
}

function CreateAlbumForm({ orgId, onDone }: { orgId: string; onDone: () => void }) {
  const client = useQueryClient()
  const navigate = useNavigate()
  const folders = useFolders(orgId)
  const [title, setTitle] = useState('')
  const [folderId, setFolderId] = useState('')
  const [clientName, setClientName] = useState('')
  const [clientEmail, setClientEmail] = useState('')
  const [tags, setTags] = useState('')
  const [limit, setLimit] = useState('')
  const create = useMutation({
    mutationFn: (body: Schemas['CreateAlbum']) => call(api.POST('/api/orgs/{org_id}/albums', { params: { path: { org_id: orgId } }, body })),
    onSuccess: (written) => {
      // the album page reads with the token, so it shows the new album rather than a 404
      rememberWrite(written.album_id, written.consistency_token)
      void client.invalidateQueries({ queryKey: pk.albums(orgId) })
      onDone()
      void navigate(`/app/albums/${written.album_id}`)
    },
  })
  const problem = create.error instanceof ApiProblem ? create.error : null
  const folderOptions = folders.data?.items ?? []
  const chosenFolder = folderId || folderOptions[0]?.folder_id || ''
  const submit = (e: FormEvent) => {
    e.preventDefault()
    create.mutate({
      title,
      folder_id: chosenFolder || null,
      client: { name: clientName, email: clientEmail },
      tags: tags
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
      selection_limit: limit ? Number(limit) : null,
    })
  }
  return (
    <form className="pf-stack" onSubmit={submit}>
      <Field label="Title" name="title" required value={title} onChange={(e) => setTitle(e.target.value)} error={problem?.fieldError('title')} />
      {folders.isPending ? (
        <Spinner label="Loading the folders" />
      ) : (
        <SelectField
          label="Folder"
          name="folder_id"
          value={chosenFolder}
          onChange={(e) => setFolderId(e.target.value)}
          error={problem?.fieldError('folder_id')}
          hint={folderOptions.length === 0 ? 'No folder yet: add one under Folders first (or create the album without photos).' : undefined}
          options={[...folderOptions.map((f) => ({ value: f.folder_id, label: `${f.name} (${f.file_count} files)` })), { value: '', label: 'No folder' }]}
        />
      )}
      <Field label="Client name" name="client.name" required value={clientName} onChange={(e) => setClientName(e.target.value)} error={problem?.fieldError('client.name') ?? problem?.fieldError('name')} />
      <Field label="Client email" name="client.email" type="email" required value={clientEmail} onChange={(e) => setClientEmail(e.target.value)} error={problem?.fieldError('client.email') ?? problem?.fieldError('email')} />
      <Field label="Tags" name="tags" hint="Separated by commas" value={tags} onChange={(e) => setTags(e.target.value)} error={problem?.fieldError('tags')} />
      <Field label="Selection limit" name="selection_limit" type="number" min={1} hint="How many photos the client may pick (empty: no limit)" value={limit} onChange={(e) => setLimit(e.target.value)} error={problem?.fieldError('selection_limit')} />
      {create.error && <ProblemMessage error={create.error} shownFields={['title', 'folder_id', 'name', 'email', 'tags', 'selection_limit']} />}
      <Button type="submit" busy={create.isPending}>
        Create album
      </Button>
    </form>
  )
}
