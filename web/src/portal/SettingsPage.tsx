import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { api, call, type Schemas } from '../api/client'
import { keys } from '../api/hooks'
import { ApiProblem } from '../api/problem'
import { Button, Field, ProblemMessage, Spinner } from '../ui'
import { SelectField } from '../ui/SelectField'
import { formatTime, pk } from './queries'
import { canAdmin, useStudio } from './studio'

type Org = Schemas['OrgView']

export function SettingsPage() {
  const { studio } = useStudio()
  const orgId = studio!.org_id
  const admin = canAdmin(studio?.role)
  const org = useQuery({
    queryKey: pk.org(orgId),
    queryFn: () => call(api.GET('/api/orgs/{org_id}', { params: { path: { org_id: orgId } } })),
  })
  return (
    <main className="pf-page pf-stack">
      <h1>Settings</h1>
      {!admin && <p className="pf-muted">Only owners and admins change these settings.</p>}
      {org.isPending && <Spinner label="Loading the studio" />}
      {org.error && <ProblemMessage error={org.error} />}
      {org.data && (
        <>
          <section className="pf-panel pf-stack" aria-labelledby="name-title">
            <h2 id="name-title">Studio</h2>
            <RenameForm org={org.data} disabled={!admin} />
          </section>
          <section className="pf-panel pf-stack" aria-labelledby="wm-title">
            <h2 id="wm-title">Watermark</h2>
            <p className="pf-muted">Stamped on the client’s previews of links shared with “watermark” on. Members see clean photos.</p>
            <WatermarkForm key={org.data.org_id} org={org.data} disabled={!admin} />
          </section>
        </>
      )}
      {admin && <Providers orgId={orgId} />}
    </main>
  )
}

function RenameForm({ org, disabled }: { org: Org; disabled: boolean }) {
  const client = useQueryClient()
  const [name, setName] = useState(org.name)
  const rename = useMutation({
    mutationFn: () =>
      call(api.PATCH('/api/orgs/{org_id}', { params: { path: { org_id: org.org_id }, header: { 'If-Match': String(org.version) } }, body: { name } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: pk.org(org.org_id) })
      void client.invalidateQueries({ queryKey: keys.me })
    },
  })
  const problem = rename.error instanceof ApiProblem ? rename.error : null
  return (
    <form
      className="pf-stack"
      onSubmit={(e) => {
        e.preventDefault()
        rename.mutate()
      }}
    >
      <Field label="Studio name" name="name" required disabled={disabled} value={name} onChange={(e) => setName(e.target.value)} error={problem?.fieldError('name')} />
      {rename.error && <ProblemMessage error={rename.error} shownFields={['name']} />}
      {rename.isSuccess && <p role="status" className="pf-ok-text">Saved.</p>}
      {!disabled && (
        <Button type="submit" busy={rename.isPending}>
          Save the name
        </Button>
      )}
    </form>
  )
}

const POSITIONS = ['center', 'top-left', 'top-right', 'bottom-left', 'bottom-right', 'tiled']

function WatermarkForm({ org, disabled }: { org: Org; disabled: boolean }) {
  const client = useQueryClient()
  const wm = org.watermark
  const [text, setText] = useState(wm?.text ?? '')
  const [imageId, setImageId] = useState<string | null>(wm?.image_id ?? null)
  const [position, setPosition] = useState(wm?.position ?? 'bottom-right')
  const [opacity, setOpacity] = useState(String(wm?.opacity ?? 0.5))
  const [scale, setScale] = useState(String(wm?.scale ?? 0.25))
  const refresh = () => void client.invalidateQueries({ queryKey: pk.org(org.org_id) })
  const upload = useMutation({
    mutationFn: (file: File) =>
      call(
        api.POST('/api/orgs/{org_id}/watermark/images', {
          params: { path: { org_id: org.org_id } },
          body: file as unknown as string,
          bodySerializer: (body: unknown) => body as Blob,
          headers: { 'Content-Type': 'image/png' },
        }),
      ),
    onSuccess: (uploaded) => setImageId(uploaded.image_id),
  })
  const save = useMutation({
    mutationFn: () =>
      call(
        api.PUT('/api/orgs/{org_id}/watermark', {
          params: { path: { org_id: org.org_id } },
          body: { text: text.trim() || null, image_id: imageId, position: position as NonNullable<Schemas['SetWatermark']['position']>, opacity: Number(opacity), scale: Number(scale) },
        }),
      ),
    onSuccess: refresh,
  })
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/orgs/{org_id}/watermark', { params: { path: { org_id: org.org_id } } })),
    onSuccess: refresh,
  })
  const problem = save.error instanceof ApiProblem ? save.error : null
  const submit = (e: FormEvent) => {
    e.preventDefault()
    save.mutate()
  }
  return (
    <form className="pf-stack" onSubmit={submit}>
      <p>{wm ? `Current: ${wm.text ? `“${wm.text}”` : ''}${wm.image_id ? ' with an image' : ''}, ${wm.position}, opacity ${wm.opacity}, scale ${wm.scale}.` : 'No watermark set.'}</p>
      <Field label="Text" name="text" disabled={disabled} value={text} onChange={(e) => setText(e.target.value)} error={problem?.fieldError('text')} hint="e.g. © Studio name" />
      <Field
        label="Image (PNG)"
        type="file"
        accept="image/png"
        disabled={disabled}
        hint={imageId ? `Image ${imageId.slice(0, 8)} chosen.` : 'Optional: a PNG with transparency.'}
        error={upload.error instanceof ApiProblem ? (upload.error.detail || upload.error.title) : upload.error ? String(upload.error) : problem?.fieldError('image_id')}
        onChange={(e) => {
          const file = e.target.files?.[0]
          if (file) upload.mutate(file)
        }}
      />
      {imageId && !disabled && (
        <Button variant="secondary" onClick={() => setImageId(null)}>
          Use no image
        </Button>
      )}
      <SelectField label="Position" name="position" disabled={disabled} value={position} onChange={(e) => setPosition(e.target.value)} options={POSITIONS.map((p) => ({ value: p, label: p }))} error={problem?.fieldError('position')} />
      <Field label="Opacity" name="opacity" type="number" min={0} max={1} step={0.05} disabled={disabled} value={opacity} onChange={(e) => setOpacity(e.target.value)} error={problem?.fieldError('opacity')} hint="0 (invisible) to 1 (solid)" />
      <Field label="Scale" name="scale" type="number" min={0.01} max={1} step={0.01} disabled={disabled} value={scale} onChange={(e) => setScale(e.target.value)} error={problem?.fieldError('scale')} hint="The watermark’s width as a share of the photo’s" />
      {save.error && <ProblemMessage error={save.error} shownFields={['text', 'image_id', 'position', 'opacity', 'scale']} />}
      {remove.error && <ProblemMessage error={remove.error} />}
      {save.isSuccess && <p role="status" className="pf-ok-text">Watermark saved.</p>}
      {!disabled && (
        <div className="pf-actions">
          <Button type="submit" busy={save.isPending || upload.isPending}>
            Save the watermark
          </Button>
          {wm && (
            <Button variant="danger" busy={remove.isPending} onClick={() => remove.mutate()}>
              Remove the watermark
            </Button>
          )}
        </div>
      )}
    </form>
  )
}

interface ProviderSpec {
  kind: 'google_drive' | 's3' | 'smtp' | 'sms'
  title: string
  fields: Array<{ name: string; label: string; secret?: boolean; required?: boolean; hint?: string; multiline?: boolean }>
}

/** The provider kinds and their settings (the platform's domains/provider.py). */
const PROVIDERS: ProviderSpec[] = [
  {
    kind: 'google_drive',
    title: 'Google Drive',
    fields: [
      { name: 'service_account_json', label: 'Service account JSON', secret: true, multiline: true, hint: 'Either a service account, or the three OAuth fields below' },
      { name: 'client_id', label: 'OAuth client id' },
      { name: 'client_secret', label: 'OAuth client secret', secret: true },
      { name: 'refresh_token', label: 'OAuth refresh token', secret: true },
    ],
  },
  {
    kind: 's3',
    title: 'Amazon S3 (or compatible)',
    fields: [
      { name: 'access_key_id', label: 'Access key id', required: true },
      { name: 'secret_access_key', label: 'Secret access key', secret: true, required: true },
      { name: 'region', label: 'Region', required: true, hint: 'e.g. eu-west-1' },
      { name: 'endpoint_url', label: 'Endpoint URL', hint: 'Only for S3-compatible services (https://...)' },
    ],
  },
  {
    kind: 'smtp',
    title: 'Mail (SMTP)',
    fields: [
      { name: 'host', label: 'Host', required: true },
      { name: 'port', label: 'Port', required: true, hint: 'e.g. 587' },
      { name: 'from_address', label: 'From address', required: true },
      { name: 'username', label: 'Username' },
      { name: 'password', label: 'Password', secret: true },
      { name: 'starttls', label: 'STARTTLS', hint: 'true or false' },
    ],
  },
  {
    kind: 'sms',
    title: 'Text messages (SMS)',
    fields: [
      { name: 'provider', label: 'SMS provider', required: true, hint: 'e.g. twilio' },
      { name: 'account_id', label: 'Account id', required: true },
      { name: 'auth_token', label: 'Auth token', secret: true, required: true },
      { name: 'from_number', label: 'From number', required: true },
    ],
  },
]

function Providers({ orgId }: { orgId: string }) {
  const providers = useQuery({
    queryKey: pk.providers(orgId),
    queryFn: () => call(api.GET('/api/orgs/{org_id}/providers', { params: { path: { org_id: orgId } } })),
  })
  const [kind, setKind] = useState<ProviderSpec['kind']>('google_drive')
  const spec = PROVIDERS.find((p) => p.kind === kind)!
  const current = providers.data?.items.find((p) => p.kind === kind)
  return (
    <section className="pf-panel pf-stack" aria-labelledby="providers-title">
      <h2 id="providers-title">Providers</h2>
      <p className="pf-muted">Credentials for the studio’s own Google Drive, S3, mail and SMS accounts. Secrets are stored encrypted and never shown again.</p>
      {providers.isPending && <Spinner label="Loading the providers" />}
      {providers.error && <ProblemMessage error={providers.error} />}
      {providers.data && (
        <ul className="pf-rows">
          {PROVIDERS.map((p) => {
            const set = providers.data.items.find((i) => i.kind === p.kind)
            return (
              <li key={p.kind} className="pf-row">
                <span className="pf-row__main">
                  <strong>{p.title}</strong> <span className="pf-muted">{set ? `configured ${formatTime(set.updated_at)}` : 'not configured'}</span>
                </span>
              </li>
            )
          })}
        </ul>
      )}
      <SelectField label="Provider to configure" value={kind} onChange={(e) => setKind(e.target.value as ProviderSpec['kind'])} options={PROVIDERS.map((p) => ({ value: p.kind, label: p.title }))} />
      <ProviderForm key={`${kind}:${current?.updated_at ?? ''}`} orgId={orgId} spec={spec} current={current} />
    </section>
  )
}

function ProviderForm({ orgId, spec, current }: { orgId: string; spec: ProviderSpec; current: Schemas['ProviderView'] | undefined }) {
  const client = useQueryClient()
  const [values, setValues] = useState<Record<string, string>>(() => {
    const initial: Record<string, string> = {}
    for (const f of spec.fields) initial[f.name] = f.secret ? '' : String(current?.public?.[f.name] ?? '')
    return initial
  })
  const refresh = () => void client.invalidateQueries({ queryKey: pk.providers(orgId) })
  const save = useMutation({
    mutationFn: (fields: Record<string, string>) =>
      call(api.PUT('/api/orgs/{org_id}/providers/{kind}', { params: { path: { org_id: orgId, kind: spec.kind } }, body: fields })),
    onSuccess: refresh,
  })
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/orgs/{org_id}/providers/{kind}', { params: { path: { org_id: orgId, kind: spec.kind } } })),
    onSuccess: refresh,
  })
  const problem = save.error instanceof ApiProblem ? save.error : null
  const submit = (e: FormEvent) => {
    e.preventDefault()
    const fields: Record<string, string> = {}
    for (const [k, v] of Object.entries(values)) if (v.trim()) fields[k] = v
    save.mutate(fields)
  }
  return (
    <form className="pf-stack" onSubmit={submit} aria-label={`${spec.title} settings`}>
      {spec.fields.map((f) =>
        f.multiline ? (
          <div key={f.name} className={`pf-field${problem?.fieldError(f.name) ? ' pf-field--invalid' : ''}`}>
            <label className="pf-field__label" htmlFor={`pv-${spec.kind}-${f.name}`}>
              {f.label}
            </label>
            <textarea
              id={`pv-${spec.kind}-${f.name}`}
              name={f.name}
              rows={4}
              value={values[f.name]}
              placeholder={current?.secrets_set.includes(f.name) ? 'Set (leave empty to keep)' : ''}
              onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
              aria-describedby={`pv-${spec.kind}-${f.name}-hint`}
            />
            {f.hint && <p id={`pv-${spec.kind}-${f.name}-hint`} className="pf-field__hint">{f.hint}</p>}
            {problem?.fieldError(f.name) && <p className="pf-field__error" role="alert">{problem.fieldError(f.name)}</p>}
          </div>
        ) : (
          <Field
            key={f.name}
            label={f.required ? f.label : `${f.label} (optional)`}
            name={f.name}
            type={f.secret ? 'password' : 'text'}
            autoComplete="off"
            value={values[f.name]}
            placeholder={f.secret && current?.secrets_set.includes(f.name) ? 'Set (type to replace)' : undefined}
            hint={f.hint}
            onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
            error={problem?.fieldError(f.name)}
          />
        ),
      )}
      {save.error && <ProblemMessage error={save.error} shownFields={spec.fields.map((f) => f.name)} />}
      {remove.error && <ProblemMessage error={remove.error} />}
      {save.isSuccess && <p role="status" className="pf-ok-text">{spec.title} saved.</p>}
      <div className="pf-actions">
        <Button type="submit" busy={save.isPending}>
          Save {spec.title}
        </Button>
        {current && (
          <Button variant="danger" busy={remove.isPending} onClick={() => remove.mutate()}>
            Remove
          </Button>
        )}
      </div>
    </form>
  )
}
