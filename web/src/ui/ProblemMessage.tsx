import type { ReactNode } from 'react'
import { ApiProblem } from '../api/problem'

export interface ProblemMessageProps {
  /** Whatever was thrown: an `ApiProblem` shows its title and detail, anything else its message. */
  error: unknown
  /** Field names shown next to their inputs already, left out of the list here. */
  shownFields?: string[]
  /** An action under the message, e.g. `<Button onClick={() => refetch()}>Try again</Button>`. */
  children?: ReactNode
}

/** Says what went wrong, in words (`role="alert"`). Use for a failed query or mutation. */
export function ProblemMessage({ error, shownFields = [], children }: ProblemMessageProps) {
  const problem = error instanceof ApiProblem ? error : null
  const title = problem?.title ?? 'Something went wrong'
  const detail = problem?.detail ?? (error instanceof Error ? error.message : String(error))
  const others = (problem?.errors ?? []).filter(
    (e) => !shownFields.some((f) => e.field === f || e.field.endsWith(`.${f}`)),
  )
  return (
    <div role="alert" className="pf-problem" data-problem-type={problem?.kind}>
      <p className="pf-problem__title">{title}</p>
      {detail && <p className="pf-problem__detail">{detail}</p>}
      {others.length > 0 && (
        <ul>
          {others.map((e) => (
            <li key={`${e.field}:${e.message}`}>
              <strong>{e.field}</strong>: {e.message}
            </li>
          ))}
        </ul>
      )}
      {children}
    </div>
  )
}
