import type { ButtonHTMLAttributes } from 'react'
import { Spinner } from './Spinner'

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  /** `primary` (default) for the one main action of a screen, `secondary` beside it, `danger` for destructive ones. */
  variant?: 'primary' | 'secondary' | 'danger'
  /** While true the button is disabled and shows a spinner (e.g. `busy={mutation.isPending}`). */
  busy?: boolean
}

/** A button; `type="button"` unless you say `type="submit"`. */
export function Button({ variant = 'primary', busy = false, disabled, className, children, type, ...rest }: ButtonProps) {
  return (
    <button
      {...rest}
      type={type ?? 'button'}
      className={['pf-button', `pf-button--${variant}`, className].filter(Boolean).join(' ')}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
    >
      {busy && <Spinner inline label="" />}
      {children}
    </button>
  )
}
