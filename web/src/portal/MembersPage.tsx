import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { api, call } from '../api/client'
import { keys, useMe } from '../api/hooks'
import { ApiProblem } from '../api/problem'
import { Button, Field, ProblemMessage, Spinner } from '../ui'
import { SelectField } from '../ui/SelectField'
import { formatTime, pk, ROLES, type Role } from './queries'
import { canAdmin, useStudio } from './studio'

const ROLE_HINT: Record<Role, string> = {
  owner: 'everything, including the studio itself',
  admin: 'members, settings and all albums',
  photographer: 'folders and albums',
  viewer: 'looks only',
  auditor: 'the audit history only',
}
const roleOptions = ROLES.map((r) => ({ value: r, label: `${r} (${ROLE_HINT[r]})` }))

export function MembersPage() {
  const { studio } = useStudio()
  const orgId = studio!.org_id
  const admin = canAdmin(studio?.role)
  const me = useMe()
  const client = useQueryClient()
  const members = useQuery({
    queryKey: pk.members(orgId),
    queryFn: () => call(api.GET('/api/orgs/{org_id}/members', { params: { path: { org_id: orgId }, query: { limit: 500 } } })),
  })
  const invitations = useQuery({
    queryKey: pk.invitations(orgId),
    queryFn: () => call(api.GET('/api/orgs/{org_id}/invitations', { params: { path: { org_id: orgId }, query: { limit: 500 } } })),
    enabled: admin,
  })
  const refresh = () => {
    void client.invalidateQueries({ queryKey: pk.members(orgId) })
    void client.invalidateQueries({ queryKey: pk.invitations(orgId) })
    void client.invalidateQueries({ queryKey: keys.me })
  }
  const changeRole = useMutation({
    mutationFn: ({ userId, role }: { userId: string; role: Role }) =>
      call(api.PATCH('/api/orgs/{org_id}/members/{user_id}', { params: { path: { org_id: orgId, user_id: userId } }, body: { role } })),
    onSettled: refresh,
  })
  const remove = useMutation({
    mutationFn: (userId: string) => call(api.DELETE('/api/orgs/{org_id}/members/{user_id}', { params: { path: { org_id: orgId, user_id: userId } } })),
    onSettled: refresh,
  })
  const revoke = useMutation({
    mutationFn: (invitationId: string) =>
      call(api.DELETE('/api/orgs/{org_id}/invitations/{invitation_id}', { params: { path: { org_id: orgId, invitation_id: invitationId } } })),
    onSettled: refresh,
  })
  return (
    <main className="pf-page pf-stack">
      <h1>Members</h1>
      {members.isPending && <Spinner label="Loading the members" />}
      {members.error && <ProblemMessage error={members.error} />}
      {changeRole.error && <ProblemMessage error={changeRole.error} />}
      {remove.error && <ProblemMessage error={remove.error} />}
      {members.data && (
        <ul className="pf-rows">
          {members.data.items.map((m) => {
            const self = m.user_id === me.data?.user_id
            return (
              <li key={m.user_id} className="pf-row">
                <span className="pf-row__main">
                  <strong>{m.name ?? 'Unnamed'}</strong>
                  {self && ' (you)'} <span className="pf-muted">{m.email ?? ''} · joined {formatTime(m.joined_at)}</span>
                </span>
                {admin && !self ? (
                  <span className="pf-inline-form">
                    <select
                      aria-label={`Role of ${m.name ?? m.email ?? m.user_id}`}
                      value={m.role}
                      disabled={changeRole.isPending}
                      onChange={(e) => changeRole.mutate({ userId: m.user_id, role: e.target.value as Role })}
                    >
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </select>
                    <Button
                      variant="danger"
                      busy={remove.isPending && remove.variables === m.user_id}
                      onClick={() => {
                        if (window.confirm(`Remove ${m.name ?? m.email} from the studio?`)) remove.mutate(m.user_id)
                      }}
                    >
                      Remove
                    </Button>
                  </span>
                ) : (
                  <span className="pf-badge">{m.role}</span>
                )}
              </li>
            )
          })}
        </ul>
      )}
      {admin && (
        <>
          <section className="pf-panel pf-stack" aria-labelledby="invite-title">
            <h2 id="invite-title">Invite someone</h2>
            <InviteForm orgId={orgId} onDone={refresh} />
          </section>
          <section className="pf-stack-sm" aria-labelledby="invitations-title">
            <h2 id="invitations-title">Invitations</h2>
            {invitations.isPending && <Spinner label="Loading the invitations" />}
            {invitations.error && <ProblemMessage error={invitations.error} />}
            {revoke.error && <ProblemMessage error={revoke.error} />}
            {invitations.data && invitations.data.items.length === 0 && <p>No invitations.</p>}
            {invitations.data && (
              <ul className="pf-rows">
                {invitations.data.items.map((i) => (
                  <li key={i.invitation_id} className="pf-row">
                    <span className="pf-row__main">
                      <strong>{i.email}</strong> as {i.role}{' '}
                      <span className="pf-muted">
                        · {i.status} · expires {formatTime(i.expires_at)}
                      </span>
                    </span>
                    {i.status === 'pending' && (
                      <Button variant="secondary" busy={revoke.isPending && revoke.variables === i.invitation_id} onClick={() => revoke.mutate(i.invitation_id)}>
                        Revoke
                      </Button>
                    )}
                  </li>
                ))}
              </ul>
            )}
          </section>
        </>
      )}
    </main>
  )
}

function InviteForm({ orgId, onDone }: { orgId: string; onDone: () => void }) {
  const [email, setEmail] = useState('')
  const [role, setRole] = useState<Role>('photographer')
  const [sent, setSent] = useState<string | null>(null)
  const invite = useMutation({
    mutationFn: () => call(api.POST('/api/orgs/{org_id}/invitations', { params: { path: { org_id: orgId } }, body: { email, role } })),
    onSuccess: () => {
      setSent(email)
      setEmail('')
      onDone()
    },
  })
  const problem = invite.error instanceof ApiProblem ? invite.error : null
  const submit = (e: FormEvent) => {
    e.preventDefault()
    setSent(null)
    invite.mutate()
  }
  return (
    <form className="pf-stack" onSubmit={submit}>
      <Field label="Email" type="email" name="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={problem?.fieldError('email')} />
      <SelectField label="Role" name="role" value={role} onChange={(e) => setRole(e.target.value as Role)} options={roleOptions} error={problem?.fieldError('role')} />
      {invite.error && <ProblemMessage error={invite.error} shownFields={['email', 'role']} />}
      {sent && (
        <p role="status" className="pf-ok-text">
          Invitation sent to {sent}.
        </p>
      )}
      <Button type="submit" busy={invite.isPending}>
        Send invitation
      </Button>
    </form>
  )
}
