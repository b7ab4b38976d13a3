/**
 * The album's workflow for the client: Submit (with a confirmation) while picking; after
 * delivery Approve and Request changes (with text); downloads when the link allows them. Only
 * the commands in `allowed_commands` are shown.
 */
import { useState, type FormEvent } from 'react'
import { Button, Dialog, DialogClose, ProblemMessage } from '../ui'
import { useAlbumCommand } from './actions'
import type { SharedAlbum } from './data'

export function AlbumActions({ token, guest, album }: { token: string; guest: string; album: SharedAlbum }) {
  const allowed = new Set(album.allowed_commands)
  const base = `/api/share/${encodeURIComponent(token)}/download`
  const hasAny = allowed.has('submit') || allowed.has('approve') || allowed.has('request_changes') || album.share.allow_download
  if (!hasAny) return null
  return (
    <div className="g-actions">
      {allowed.has('submit') && <SubmitButton token={token} guest={guest} album={album} />}
      {allowed.has('approve') && <ApproveButton token={token} guest={guest} />}
      {allowed.has('request_changes') && <RequestChangesButton token={token} guest={guest} />}
      {album.share.allow_download && (
        <>
          {album.selection_count > 0 && (
            <a className="pf-button pf-button--secondary" href={`${base}?scope=selection`} download>
              Download picked (ZIP)
            </a>
          )}
          <a className="pf-button pf-button--secondary" href={`${base}?scope=all`} download>
            Download all (ZIP)
          </a>
        </>
      )}
    </div>
  )
}

function SubmitButton({ token, guest, album }: { token: string; guest: string; album: SharedAlbum }) {
  const [open, setOpen] = useState(false)
  const submit = useAlbumCommand(token, guest, 'submit')
  const n = album.selection_count
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => {
        setOpen(o)
        if (!o) submit.reset()
      }}
      title="Send your selection?"
      description={`Your photographer receives the ${n} picked photo${n === 1 ? '' : 's'} of everyone on this link. You cannot change picks afterwards.`}
      trigger={<Button>Send selection</Button>}
    >
      {submit.error && <ProblemMessage error={submit.error} />}
      <div className="g-dialog-actions">
        <DialogClose asChild>
          <Button variant="secondary">Keep picking</Button>
        </DialogClose>
        <Button busy={submit.isPending} onClick={() => submit.mutate(undefined, { onSuccess: () => setOpen(false) })}>
          Send {n} photo{n === 1 ? '' : 's'}
        </Button>
      </div>
    </Dialog>
  )
}

function ApproveButton({ token, guest }: { token: string; guest: string }) {
  const [open, setOpen] = useState(false)
  const approve = useAlbumCommand(token, guest, 'approve')
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => {
        setOpen(o)
        if (!o) approve.reset()
      }}
      title="Approve the photos?"
      description="This tells your photographer the delivered photos are final."
      trigger={<Button>Approve</Button>}
    >
      {approve.error && <ProblemMessage error={approve.error} />}
      <div className="g-dialog-actions">
        <DialogClose asChild>
          <Button variant="secondary">Not yet</Button>
        </DialogClose>
        <Button busy={approve.isPending} onClick={() => approve.mutate(undefined, { onSuccess: () => setOpen(false) })}>
          Approve
        </Button>
      </div>
    </Dialog>
  )
}

function RequestChangesButton({ token, guest }: { token: string; guest: string }) {
  const [open, setOpen] = useState(false)
  const [text, setText] = useState('')
  const request = useAlbumCommand(token, guest, 'request-changes')
  function submit(event: FormEvent) {
    event.preventDefault()
    if (!text.trim()) return
    request.mutate(text.trim(), {
      onSuccess: () => {
        setOpen(false)
        setText('')
      },
    })
  }
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => {
        setOpen(o)
        if (!o) request.reset()
      }}
      title="Request changes"
      description="Tell your photographer what should change."
      trigger={<Button variant="secondary">Request changes</Button>}
    >
      <form onSubmit={submit} className="pf-stack">
        <label htmlFor="changes-text" className="pf-field__label">
          What should change?
        </label>
        <textarea id="changes-text" rows={4} value={text} maxLength={4000} onChange={(e) => setText(e.target.value)} required />
        {request.error && <ProblemMessage error={request.error} />}
        <div className="g-dialog-actions">
          <DialogClose asChild>
            <Button variant="secondary">Cancel</Button>
          </DialogClose>
          <Button type="submit" busy={request.isPending} disabled={!text.trim()}>
            Send request
          </Button>
        </div>
      </form>
    </Dialog>
  )
}
