/**
 * Forgetting an album's client (an erasure request): `POST /api/albums/{id}/forget-client`
 * destroys the client's key, so the client's name and email, the guests' names and their
 * comments read as "[forgotten]" everywhere from then on. It cannot be undone, so it is asked
 * twice: the button opens a dialog that says what happens, and the dialog's button does it.
 */
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { api, call, type Schemas } from '../api/client'
import { Button, Dialog, DialogClose, ProblemMessage } from '../ui'
import { rememberWrite } from '../api/writes'
import { pk } from './queries'

type Album = Schemas['AlbumView']

export function ForgetClient({ album }: { album: Album }) {
  const client = useQueryClient()
  const [open, setOpen] = useState(false)
  const forget = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/albums/{album_id}/forget-client', {
          params: { path: { album_id: album.album_id }, header: { 'If-Match': String(album.version) } },
        }),
      ),
    onSuccess: async (written) => {
      rememberWrite(album.album_id, written.consistency_token)
      setOpen(false)
      // every view of the album named the client: read them all again
      await client.invalidateQueries({ queryKey: pk.album(album.album_id) })
      void client.invalidateQueries({ predicate: (q) => q.queryKey.includes(album.album_id) })
      void client.invalidateQueries({ queryKey: ['albums'] })
    },
  })
  if (album.client_forgotten) return <span className="pf-badge">Client forgotten</span>
  return (
    <Dialog
      title="Forget the client"
      description="For an erasure request: the client's name and email, the guests' names and their comments become unreadable everywhere, for good."
      open={open}
      onOpenChange={setOpen}
      trigger={<Button variant="secondary">Forget the client…</Button>}
    >
      <div className="pf-stack">
        <p>
          {String(album.client.name ?? '')} &lt;{String(album.client.email ?? '')}&gt; will read as “[forgotten]” in this album, its history,
          exports and messages. The share link stops working. Picks, ratings and editing status stay, without names. This cannot be undone.
        </p>
        {forget.error && <ProblemMessage error={forget.error} />}
        <div className="pf-actions">
          <Button variant="danger" busy={forget.isPending} onClick={() => forget.mutate()}>
            Forget the client
          </Button>
          <DialogClose asChild>
            <Button variant="secondary">Cancel</Button>
          </DialogClose>
        </div>
      </div>
    </Dialog>
  )
}
