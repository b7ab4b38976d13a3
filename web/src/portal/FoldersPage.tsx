import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useId, useState, type FormEvent } from 'react'
import { Link, useNavigate } from 'react-router'
import { api, call, type Schemas } from '../api/client'
import { ApiProblem } from '../api/problem'
import { rememberWrite } from '../api/writes'
import { Button, Dialog, Field, ProblemMessage, Spinner } from '../ui'
import { SelectField } from '../ui/SelectField'
import { FolderProgress } from './FolderPage'
import { providerName, useFolders } from './portalHooks'
import { pk } from './queries'
import { canWrite, useStudio } from './studio'

type Folder = Schemas['FolderView']

export function FoldersPage() {
  const { studio } = useStudio()
  const orgId = studio!.org_id
  const folders = useFolders(orgId)
  const [adding, setAdding] = useState(false)
  return (
    <main className="pf-page pf-stack">
      <div className="pf-heading-row">
        <h1>Folders</h1>
        {canWrite(studio?.role) && (
          <Dialog
            title="Add a folder"
            description="A folder of photos on this machine, in Google Drive or in S3."
            open={adding}
            onOpenChange={setAdding}
            trigger={<Button>Add a folder</Button>}
          >
            <AddFolderForm orgId={orgId} onDone={() => setAdding(false)} />
          </Dialog>
        )}
      </div>
      {folders.isPending && <Spinner label="Loading the folders" />}
      {folders.error && (
        <ProblemMessage error={folders.error}>
          <Button variant="secondary" onClick={() => void folders.refetch()}>
            Try again
          </Button>
        </ProblemMessage>
      )}
      {folders.data && folders.data.items.length === 0 && <p>No folders yet. Add one to create albums from its photos.</p>}
      {folders.data && folders.data.items.length > 0 && (
        <ul className="pf-cards">
          {folders.data.items.map((f) => (
            <FolderCard key={f.folder_id} folder={f} />
          ))}
        </ul>
      )}
    </main>
  )
}

function FolderCard({ folder }: { folder: Folder }) {
  return (
    <li className="pf-card pf-stack-sm">
      <Link className="pf-card__title" to={`/app/folders/${folder.folder_id}`}>
        {folder.name}
      </Link>
      <span className="pf-muted">
        {providerName(folder.provider)} · {folder.location} · {folder.file_count} files
      </span>
      <FolderProgress folder={folder} compact />
    </li>
  )
}

const LOCATION_HINT: Record<string, string> = {
  local: 'A directory path on the platform’s machine, inside its allowed photo roots.',
  google_drive: 'The Google Drive folder id (from the folder’s address).',
  s3: 's3://bucket/prefix',
}

function AddFolderForm({ orgId, onDone }: { orgId: string; onDone: () => void }) {
  const client = useQueryClient()
  const navigate = useNavigate()
  const [provider, setProvider] = useState('local')
  const [location, setLocation] = useState('')
  const [name, setName] = useState('')
  const formId = useId()
  const create = useMutation({
    mutationFn: (body: Schemas['RegisterFolder']) =>
      call(api.POST('/api/orgs/{org_id}/storage/folders', { params: { path: { org_id: orgId } }, body })),
    onSuccess: (written) => {
      // the folder page reads with the token, so it shows the new folder rather than a 404
      rememberWrite(written.folder_id, written.consistency_token)
      void client.invalidateQueries({ queryKey: pk.folders(orgId) })
      onDone()
      void navigate(`/app/folders/${written.folder_id}`)
    },
  })
  const problem = create.error instanceof ApiProblem ? create.error : null
  const submit = (e: FormEvent) => {
    e.preventDefault()
    create.mutate({ provider: provider as Schemas['RegisterFolder']['provider'], location, name })
  }
  return (
    <form id={formId} className="pf-stack" onSubmit={submit}>
      <SelectField
        label="Provider"
        name="provider"
        value={provider}
        onChange={(e) => setProvider(e.target.value)}
        error={problem?.fieldError('provider')}
        options={[
          { value: 'local', label: 'Local directory' },
          { value: 'google_drive', label: 'Google Drive' },
          { value: 's3', label: 'Amazon S3 (or compatible)' },
        ]}
      />
      <Field
        label="Location"
        name="location"
        required
        value={location}
        hint={LOCATION_HINT[provider]}
        onChange={(e) => setLocation(e.target.value)}
        error={problem?.fieldError('location')}
      />
      <Field label="Folder name" name="name" required value={name} onChange={(e) => setName(e.target.value)} error={problem?.fieldError('name')} />
      {create.error && <ProblemMessage error={create.error} shownFields={['provider', 'location', 'name']} />}
      <Button type="submit" busy={create.isPending}>
        Add folder
      </Button>
    </form>
  )
}
