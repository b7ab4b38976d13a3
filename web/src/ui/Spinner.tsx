export interface SpinnerProps {
  /** What is loading, said to screen readers and shown beside the spinner ("Loading your studios"). */
  label?: string
  /** Small and inline (inside a button) rather than a block. */
  inline?: boolean
}

/** A loading indicator that says what is loading (`role="status"`). */
export function Spinner({ label = 'Loading', inline = false }: SpinnerProps) {
  return (
    <span role={label ? 'status' : undefined} className={inline ? 'pf-spinner pf-spinner--inline' : 'pf-spinner'}>
      <span className="pf-spinner__wheel" aria-hidden="true" />
      {label && <span className="pf-spinner__label">{label}…</span>}
    </span>
  )
}
