import { useState, type FormEvent } from 'react'
import { Link, useLocation, useNavigate } from 'react-router'
import { ApiProblem } from '../api/problem'
import { useAuth } from '../auth/context'
import { GoogleSignIn } from '../auth/GoogleSignIn'
import { nextPath, signInPath } from '../auth/next'
import { Button, Field, ProblemMessage } from '../ui'

function useSubmit(action: (form: FormData) => Promise<void>) {
  const navigate = useNavigate()
  const location = useLocation()
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await action(new FormData(event.currentTarget))
      navigate(nextPath(location.search), { replace: true })
    } catch (problem) {
      setError(problem)
      setBusy(false)
    }
  }
  return { error, busy, onSubmit, next: nextPath(location.search) }
}

const text = (form: FormData, name: string) => String(form.get(name) ?? '')

/** `/app/signin`: email and password (or Google, when the platform has it); `?next=` says where to go after. */
export function SignInPage() {
  const { signIn } = useAuth()
  const { error, busy, onSubmit, next } = useSubmit((form) => signIn(text(form, 'email'), text(form, 'password')))
  const problem = error instanceof ApiProblem ? error : null
  const fields = ['email', 'password']
  return (
    <main className="pf-narrow">
      <h1>Sign in to PhotoFlow</h1>
      <form className="pf-stack" onSubmit={onSubmit} noValidate>
        <Field label="Email" name="email" type="email" autoComplete="email" required error={problem?.fieldError('email')} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required error={problem?.fieldError('password')} />
        {error !== null && <ProblemMessage error={error} shownFields={fields} />}
        <Button type="submit" busy={busy}>
          Sign in
        </Button>
      </form>
      <GoogleSignIn next={next} mode="signin" />
      <p>
        New to PhotoFlow? <Link to={signInPath(next, 'signup')}>Create an account</Link>
      </p>
    </main>
  )
}

/** `/app/signup`: name, email and password; registers, then signs in. */
export function SignUpPage() {
  const { signUp } = useAuth()
  const { error, busy, onSubmit, next } = useSubmit((form) =>
    signUp({ name: text(form, 'name'), email: text(form, 'email'), password: text(form, 'password') }),
  )
  const problem = error instanceof ApiProblem ? error : null
  const fields = ['name', 'email', 'password']
  return (
    <main className="pf-narrow">
      <h1>Create your PhotoFlow account</h1>
      <form className="pf-stack" onSubmit={onSubmit} noValidate>
        <Field label="Your name" name="name" autoComplete="name" required error={problem?.fieldError('name')} />
        <Field label="Email" name="email" type="email" autoComplete="email" required error={problem?.fieldError('email')} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          hint="At least 8 characters."
          error={problem?.fieldError('password')}
        />
        {error !== null && <ProblemMessage error={error} shownFields={fields} />}
        <Button type="submit" busy={busy}>
          Sign up
        </Button>
      </form>
      <GoogleSignIn next={next} mode="signup" />
      <p>
        Already have an account? <Link to={signInPath(next)}>Sign in</Link>
      </p>
    </main>
  )
}
