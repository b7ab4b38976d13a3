import * as Tabs from '@radix-ui/react-tabs'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useEffect, useState, type FormEvent } from 'react'
import { Link, useParams } from 'react-router'
import { api, call, type Schemas } from '../api/client'
import { ApiProblem } from '../api/problem'
import { Button, Dialog, DialogClose, Field, ProblemMessage, Spinner } from '../ui'
import { AlbumActivity, AlbumAudit, AlbumComments } from './AlbumHistory'
import { consistency, rememberWrite } from '../api/writes'
import { runCommand, useAlbum, type AlbumCommand } from './albumApi'
import { StatusBadge } from './AlbumsPage'
import { PhotoGrid } from './PhotoGrid'
import { copyText, formatTime, pk } from './queries'
import { ForgetClient } from './ForgetClient'
import { canAdmin, canWrite, useStudio } from './studio'

type Album = Schemas['AlbumView']

/** The workflow commands that are buttons, in workflow order (the API's `allowed_commands` names). */
const COMMAND_BUTTONS: Array<{ name: string; path: AlbumCommand; label: string; variant?: 'secondary' | 'danger' }> = [
  { name: 'sync', path: 'sync', label: 'Sync photos', variant: 'secondary' },
  { name: 'start_editing', path: 'start-editing', label: 'Start editing' },
  { name: 'deliver', path: 'deliver', label: 'Deliver' },
  { name: 'reopen', path: 'reopen', label: 'Reopen' },
  { name: 'archive', path: 'archive', label: 'Archive', variant: 'danger' },
]

export function AlbumPage() {
  const { albumId = '' } = useParams()
  const album = useAlbum(albumId)
  const { studios, studio, choose } = useStudio()
  const orgId = album.data?.org_id
  useEffect(() => {
    // a mail's link may open an album of another studio than the one chosen: follow it
    if (orgId && studio && studio.org_id !== orgId && studios.some((s) => s.org_id === orgId)) choose(orgId)
  }, [orgId, studio, studios, choose])
  if (album.isPending) return <main className="pf-page"><Spinner label="Loading the album" /></main>
  if (album.error)
    return (
      <main className="pf-page pf-stack">
        <h1>Album</h1>
        <ProblemMessage error={album.error}>
          <Button variant="secondary" onClick={() => void album.refetch()}>
            Try again
          </Button>{' '}
          <Link to="/app/albums">Back to the albums</Link>
        </ProblemMessage>
      </main>
    )
  const role = studios.find((s) => s.org_id === album.data.org_id)?.role
  return <AlbumView album={album.data} writable={canWrite(role)} admin={canAdmin(role)} />
}

function AlbumView({ album, writable, admin }: { album: Album; writable: boolean; admin: boolean }) {
  const a = album
  const allowed = new Set(a.allowed_commands)
  return (
    <main className="pf-page pf-stack">
      <p className="pf-crumbs">
        <Link to="/app/albums">Albums</Link> /
      </p>
      <header className="pf-album-header pf-stack-sm">
        <div className="pf-heading-row">
          <h1>{a.title}</h1>
          <span>
            Status: <StatusBadge status={a.status} />
          </span>
        </div>
        <p className="pf-muted">
          For {String(a.client.name ?? '')} &lt;{String(a.client.email ?? '')}&gt; · {a.photo_count} photos ·{' '}
          <span data-testid="selection-count">
            {a.selection_count}
            {a.selection_limit ? ` / ${a.selection_limit}` : ''} picked
          </span>{' '}
          · {a.comment_count} comments · updated {formatTime(a.updated_at)}
          {a.folder_id && (
            <>
              {' '}
              · <Link to={`/app/folders/${a.folder_id}`}>folder</Link>
            </>
          )}
        </p>
        {/* owners and admins answer erasure requests; others see only that it happened */}
        {(admin || a.client_forgotten) && <ForgetClient album={a} />}
        {writable && <WorkflowButtons album={a} />}
        {!writable && <p className="pf-muted">Your role can look, not change.</p>}
        <Tags album={a} writable={writable && allowed.has('tag')} />
      </header>
      <Tabs.Root defaultValue="photos" className="pf-tabs">
        <Tabs.List className="pf-tabs__list" aria-label="Album sections">
          <Tabs.Trigger value="photos" className="pf-tabs__tab">
            Photos
          </Tabs.Trigger>
          <Tabs.Trigger value="comments" className="pf-tabs__tab">
            Comments
          </Tabs.Trigger>
          <Tabs.Trigger value="activity" className="pf-tabs__tab">
            Activity
          </Tabs.Trigger>
          <Tabs.Trigger value="history" className="pf-tabs__tab">
            Audit history
          </Tabs.Trigger>
          <Tabs.Trigger value="export" className="pf-tabs__tab">
            Export
          </Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="photos" className="pf-tabs__panel">
          <PhotoGrid album={a} canSetProc={writable && allowed.has('set_proc_status')} />
        </Tabs.Content>
        <Tabs.Content value="comments" className="pf-tabs__panel">
          <AlbumComments albumId={a.album_id} />
        </Tabs.Content>
        <Tabs.Content value="activity" className="pf-tabs__panel">
          <AlbumActivity albumId={a.album_id} />
        </Tabs.Content>
        <Tabs.Content value="history" className="pf-tabs__panel">
          <AlbumAudit albumId={a.album_id} />
        </Tabs.Content>
        <Tabs.Content value="export" className="pf-tabs__panel">
          <SelectionExport album={a} />
        </Tabs.Content>
      </Tabs.Root>
    </main>
  )
}

function useAlbumRefresh(albumId: string) {
  const client = useQueryClient()
  return async () => {
    await client.invalidateQueries({ queryKey: pk.album(albumId) })
    void client.invalidateQueries({ queryKey: pk.albumPhotos(albumId) })
    void client.invalidateQueries({ queryKey: pk.albumActivity(albumId) })
    void client.invalidateQueries({ queryKey: pk.albumAudit(albumId) })
    void client.invalidateQueries({ queryKey: ['albums'] })
  }
}

/**
 * The workflow's buttons. Busy only while our own command and the album's read after it run
 * (the mutation waits for `onSettled`): a background read (a live event's) never disables them,
 * since a click that lands while a button is disabled is silently lost.
 */
function WorkflowButtons({ album }: { album: Album }) {
  const refresh = useAlbumRefresh(album.album_id)
  const command = useMutation({
    mutationFn: (path: AlbumCommand) => runCommand(album.album_id, path, album.version),
    onSettled: refresh,
  })
  const allowed = new Set(album.allowed_commands)
  const buttons = COMMAND_BUTTONS.filter((b) => allowed.has(b.name))
  return (
    <div className="pf-stack-sm">
      <div className="pf-actions" role="group" aria-label="Workflow">
        {buttons.map((b) => (
          <Button
            key={b.name}
            variant={b.variant ?? 'primary'}
            busy={command.isPending && command.variables === b.path}
            disabled={command.isPending}
            onClick={() => command.mutate(b.path)}
          >
            {b.label}
          </Button>
        ))}
        {(allowed.has('share') || album.share.active) && <ShareDialog album={album} />}
        {buttons.length === 0 && !allowed.has('share') && <span className="pf-muted">Nothing to do now: waiting for the client or the sync.</span>}
      </div>
      {command.error && <ProblemMessage error={command.error} />}
    </div>
  )
}

const SHARE_KEY = (albumId: string) => `photoflow.share.${albumId}`

function ShareDialog({ album }: { album: Album }) {
  const refresh = useAlbumRefresh(album.album_id)
  const [open, setOpen] = useState(false)
  const [expires, setExpires] = useState('')
  const [allowDownload, setAllowDownload] = useState(album.share.allow_download)
  const [watermark, setWatermark] = useState(album.share.watermark)
  // the album answers its link's token to members who may share; sessionStorage bridges the
  // moment between a new share and the album's re-read
  const [token, setToken] = useState<string | null>(() =>
    album.share.active ? (album.share.token ?? sessionStorage.getItem(SHARE_KEY(album.album_id))) : null,
  )
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null)
  const canShare = album.allowed_commands.includes('share')
  const share = useMutation({
    mutationFn: (body: Schemas['Share']) =>
      call(
        api.POST('/api/albums/{album_id}/share', {
          params: { path: { album_id: album.album_id }, header: { 'If-Match': String(album.version) } },
          body,
        }),
      ),
    onSuccess: (written) => {
      rememberWrite(album.album_id, written.consistency_token)
      sessionStorage.setItem(SHARE_KEY(album.album_id), written.share_token)
      setToken(written.share_token)
      setCopied(null)
      void refresh()
    },
  })
  const revoke = useMutation({
    mutationFn: () => call(api.DELETE('/api/albums/{album_id}/share', { params: { path: { album_id: album.album_id } } })),
    onSuccess: (written) => {
      rememberWrite(album.album_id, (written as { consistency_token?: string } | undefined)?.consistency_token)
      sessionStorage.removeItem(SHARE_KEY(album.album_id))
      setToken(null)
      void refresh()
    },
  })
  const problem = share.error instanceof ApiProblem ? share.error : null
  const link = token ? `${window.location.origin}/g/${token}` : null
  const submit = (e: FormEvent) => {
    e.preventDefault()
    share.mutate({ expires_at: expires ? new Date(expires).toISOString() : null, allow_download: allowDownload, watermark })
  }
  return (
    <Dialog
      title="Share with the client"
      description="The client opens the link without an account, picks photos and submits the selection."
      open={open}
      onOpenChange={setOpen}
      trigger={<Button variant={album.share.active ? 'secondary' : 'primary'}>{album.share.active ? 'Share link' : 'Share'}</Button>}
    >
      <div className="pf-stack">
        {album.share.active && (
          <p>
            A link is active{album.share.expires_at ? ` until ${formatTime(album.share.expires_at)}` : ''}; downloads{' '}
            {album.share.allow_download ? 'allowed' : 'off'}; watermark {album.share.watermark ? 'on' : 'off'}.
          </p>
        )}
        {link && (
          <div className="pf-stack-sm">
            <Field label="Client link" readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
            <div className="pf-actions">
              <Button
                onClick={() => {
                  void copyText(link).then((ok) => setCopied(ok ? 'yes' : 'no'))
                }}
              >
                Copy link
              </Button>
              <a className="pf-button pf-button--secondary" href={link} target="_blank" rel="noreferrer">
                Open the gallery
              </a>
            </div>
            <p role="status" className="pf-muted">
              {copied === 'yes' ? 'Link copied.' : copied === 'no' ? 'Copying was refused: select the link and copy it by hand.' : ''}
            </p>
          </div>
        )}
        {album.share.active && !link && <p className="pf-muted">The link was made in another session. Share again to get a link to copy (a new link replaces it).</p>}
        {canShare && (
          <form className="pf-stack" onSubmit={submit}>
            <Field
              label="Expires"
              type="datetime-local"
              value={expires}
              hint="Empty: the link does not expire"
              onChange={(e) => setExpires(e.target.value)}
              error={problem?.fieldError('expires_at')}
            />
            <label className="pf-check">
              <input type="checkbox" checked={allowDownload} onChange={(e) => setAllowDownload(e.target.checked)} /> Allow downloads of the originals
            </label>
            <label className="pf-check">
              <input type="checkbox" checked={watermark} onChange={(e) => setWatermark(e.target.checked)} /> Watermark the client’s previews (the studio’s watermark)
            </label>
            {share.error && <ProblemMessage error={share.error} shownFields={['expires_at']} />}
            <Button type="submit" busy={share.isPending}>
              {album.share.active || link ? 'Make a new link' : 'Create the link'}
            </Button>
          </form>
        )}
        {album.share.active && (
          <Button variant="danger" busy={revoke.isPending} onClick={() => revoke.mutate()}>
            Revoke the link
          </Button>
        )}
        {revoke.error && <ProblemMessage error={revoke.error} />}
        <DialogClose asChild>
          <Button variant="secondary">Done</Button>
        </DialogClose>
      </div>
    </Dialog>
  )
}

function Tags({ album, writable }: { album: Album; writable: boolean }) {
  const refresh = useAlbumRefresh(album.album_id)
  const [tag, setTag] = useState('')
  const add = useMutation({
    mutationFn: (value: string) => call(api.POST('/api/albums/{album_id}/tags', { params: { path: { album_id: album.album_id } }, body: { tag: value } })),
    onSuccess: (w) => {
      rememberWrite(album.album_id, w.consistency_token)
      setTag('')
      void refresh()
    },
  })
  const remove = useMutation({
    mutationFn: (value: string) => call(api.DELETE('/api/albums/{album_id}/tags/{tag}', { params: { path: { album_id: album.album_id, tag: value } } })),
    onSuccess: (w) => {
      rememberWrite(album.album_id, w.consistency_token)
      void refresh()
    },
  })
  const problem = add.error instanceof ApiProblem ? add.error : null
  return (
    <section aria-label="Tags" className="pf-stack-sm">
      <div className="pf-tags">
        {album.tags.length === 0 && <span className="pf-muted">No tags.</span>}
        {album.tags.map((t) => (
          <span key={t} className="pf-tag">
            #{t}
            {writable && (
              <button type="button" className="pf-tag__x" aria-label={`Remove tag ${t}`} onClick={() => remove.mutate(t)} disabled={remove.isPending}>
                ×
              </button>
            )}
          </span>
        ))}
      </div>
      {writable && (
        <form
          className="pf-inline-form"
          onSubmit={(e) => {
            e.preventDefault()
            if (tag.trim()) add.mutate(tag.trim())
          }}
        >
          <Field label="New tag" value={tag} onChange={(e) => setTag(e.target.value)} error={problem?.fieldError('tag')} />
          <Button type="submit" variant="secondary" busy={add.isPending}>
            Add tag
          </Button>
        </form>
      )}
      {add.error && <ProblemMessage error={add.error} shownFields={['tag']} />}
      {remove.error && <ProblemMessage error={remove.error} />}
    </section>
  )
}

function SelectionExport({ album }: { album: Album }) {
  const [copied, setCopied] = useState<string | null>(null)
  const lightroom = useMutation({
    mutationFn: () =>
      call(
        api.GET('/api/albums/{album_id}/selection/export', {
          params: { path: { album_id: album.album_id }, query: { format: 'lightroom' }, header: consistency(album.album_id) },
          parseAs: 'text',
        }),
      ) as Promise<string>,
  })
  const csv = useMutation({
    mutationFn: async () => {
      const blob = (await call(
        api.GET('/api/albums/{album_id}/selection/export', {
          params: { path: { album_id: album.album_id }, query: { format: 'csv' }, header: consistency(album.album_id) },
          parseAs: 'blob',
        }),
      )) as Blob
      const url = URL.createObjectURL(blob)
      const a = document.createElement('a')
      a.href = url
      a.download = `${album.title.replace(/[^\w.-]+/g, '_') || 'selection'}-selection.csv`
      document.body.append(a)
      a.click()
      a.remove()
      setTimeout(() => URL.revokeObjectURL(url), 10_000)
    },
  })
  return (
    <section className="pf-stack" aria-labelledby="export-title">
      <h2 id="export-title">Export the client’s selection</h2>
      <p className="pf-muted">{album.selection_count} photos picked.</p>
      <div className="pf-actions">
        <Button onClick={() => lightroom.mutate()} busy={lightroom.isPending}>
          Show the Lightroom filter
        </Button>
        <Button variant="secondary" onClick={() => csv.mutate()} busy={csv.isPending}>
          Download CSV
        </Button>
      </div>
      {lightroom.error && <ProblemMessage error={lightroom.error} />}
      {csv.error && <ProblemMessage error={csv.error} />}
      {lightroom.data !== undefined && (
        <div className="pf-stack-sm">
          <label className="pf-field__label" htmlFor="lightroom-filter">
            Lightroom filename filter
          </label>
          <textarea id="lightroom-filter" readOnly rows={3} value={lightroom.data} onFocus={(e) => e.currentTarget.select()} />
          <Button variant="secondary" onClick={() => void copyText(lightroom.data ?? '').then((ok) => setCopied(ok ? 'Copied.' : 'Copying was refused: select the text and copy it.'))}>
            Copy the filter
          </Button>
          <p role="status" className="pf-muted">
            {copied ?? ''}
          </p>
        </div>
      )}
    </section>
  )
}
