import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useId, useMemo, useState, type FormEvent, type ReactNode } from 'react'
import { Link, NavLink, useNavigate } from 'react-router'
import { api, call } from '../api/client'
import { keys, useMe } from '../api/hooks'
import { ApiProblem } from '../api/problem'
import { useAuth } from '../auth/context'
import { Button, Dialog, Field, ProblemMessage } from '../ui'
import { useLiveStream, type LiveState } from './live'
import { rememberStudio, rememberedStudio, StudioContext, useStudio, type StudioState } from './studio'

const LIVE_TEXT: Record<LiveState, string> = {
  connecting: 'Connecting live updates',
  live: 'Live',
  reconnecting: 'Reconnecting live updates',
  off: 'Live updates off',
}

/** Holds the current studio, the live stream, and the portal's header and navigation. */
export function PortalShell({ children }: { children: ReactNode }) {
  const me = useMe()
  const [chosen, setChosen] = useState<string | null>(() => rememberedStudio())
  const studios = useMemo(() => me.data?.orgs ?? [], [me.data])
  const studio = studios.find((s) => s.org_id === chosen) ?? studios[0] ?? null
  const state = useMemo<StudioState>(
    () => ({
      studio,
      studios,
      choose: (orgId: string) => {
        rememberStudio(orgId)
        setChosen(orgId)
      },
    }),
    [studio, studios],
  )
  const scope = studios
    .map((s) => s.org_id)
    .sort()
    .join(',')
  const live = useLiveStream(scope, me.isSuccess)
  return (
    <StudioContext.Provider value={state}>
      <PortalHeader live={live} />
      {children}
    </StudioContext.Provider>
  )
}

function PortalHeader({ live }: { live: LiveState }) {
  const { signOut } = useAuth()
  const me = useMe()
  return (
    <header className="pf-portal-header">
      <div className="pf-topbar">
        <Link className="pf-brand" to="/app">
          PhotoFlow
        </Link>
        <StudioSwitcher />
        <span className="pf-topbar__end">
          <span className={`pf-live pf-live--${live}`} title={LIVE_TEXT[live]}>
            <span aria-hidden="true" className="pf-live__dot" />
            <span className="pf-visually-hidden-phone">{LIVE_TEXT[live]}</span>
          </span>
          {me.data && <span className="pf-who">{me.data.name}</span>}
          <Button variant="secondary" onClick={() => void signOut()}>
            Sign out
          </Button>
        </span>
      </div>
      <PortalNav />
    </header>
  )
}

function PortalNav() {
  const { studio } = useStudio()
  if (!studio) return null
  const cls = ({ isActive }: { isActive: boolean }) => (isActive ? 'pf-nav__link pf-nav__link--active' : 'pf-nav__link')
  return (
    <nav className="pf-nav" aria-label="Studio sections">
      <NavLink className={cls} to="/app/albums">
        Albums
      </NavLink>
      <NavLink className={cls} to="/app/folders">
        Folders
      </NavLink>
      <NavLink className={cls} to="/app/members">
        Members
      </NavLink>
      <NavLink className={cls} to="/app/settings">
        Settings
      </NavLink>
    </nav>
  )
}

function StudioSwitcher() {
  const { studio, studios, choose } = useStudio()
  const id = useId()
  const [creating, setCreating] = useState(false)
  return (
    <span className="pf-switcher">
      {studios.length > 0 && (
        <>
          <label htmlFor={id} className="pf-visually-hidden">
            Studio
          </label>
          <select
            id={id}
            value={studio?.org_id ?? ''}
            onChange={(e) => {
              if (e.target.value === '__new') setCreating(true)
              else choose(e.target.value)
            }}
          >
            {studios.map((s) => (
              <option key={s.org_id} value={s.org_id}>
                {s.name} ({s.role})
              </option>
            ))}
            <option value="__new">+ New studio…</option>
          </select>
        </>
      )}
      <Dialog title="Create a studio" description="You become its owner." open={creating} onOpenChange={setCreating}>
        <CreateStudioForm onDone={() => setCreating(false)} />
      </Dialog>
    </span>
  )
}

/** `POST /api/orgs`; chooses the new studio and goes to its albums. */
export function CreateStudioForm({ onDone }: { onDone?: () => void }) {
  const client = useQueryClient()
  const navigate = useNavigate()
  const { choose } = useStudio()
  const [name, setName] = useState('')
  const create = useMutation({
    mutationFn: (body: { name: string }) => call(api.POST('/api/orgs', { body })),
    onSuccess: async (written) => {
      choose(written.org_id)
      // read-your-writes: /api/me waits until it lists the new studio
      const me = await call(api.GET('/api/me', { params: { header: { 'X-Consistency-Token': written.consistency_token } } })).catch(() => null)
      if (me) client.setQueryData(keys.me, me)
      else await client.invalidateQueries({ queryKey: keys.me })
      onDone?.()
      void navigate('/app/albums')
    },
  })
  const problem = create.error instanceof ApiProblem ? create.error : null
  const submit = (e: FormEvent) => {
    e.preventDefault()
    create.mutate({ name })
  }
  return (
    <form className="pf-stack" onSubmit={submit}>
      <Field
        label="Studio name"
        name="name"
        required
        value={name}
        onChange={(e) => setName(e.target.value)}
        error={problem?.fieldError('name')}
      />
      {create.error && <ProblemMessage error={create.error} shownFields={['name']} />}
      <Button type="submit" busy={create.isPending}>
        Create studio
      </Button>
    </form>
  )
}
