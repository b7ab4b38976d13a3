import * as Label from '@radix-ui/react-label'
import { useId, type InputHTMLAttributes } from 'react'

export interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  /** The visible label (also the input's accessible name). */
  label: string
  /** The error to show under the input, e.g. `problem?.fieldError('email')`. */
  error?: string
  /** A short help text under the input. */
  hint?: string
}

/**
 * A labelled input with its error next to it. All other props go to the `<input>`:
 * `<Field label="Email" name="email" type="email" required error={problem?.fieldError('email')} />`.
 */
export function Field({ label, error, hint, id, className, ...input }: FieldProps) {
  const generated = useId()
  const inputId = id ?? generated
  const hintId = `${inputId}-hint`
  const errorId = `${inputId}-error`
  const describedBy = [hint && hintId, error && errorId].filter(Boolean).join(' ') || undefined
  return (
    <div className={['pf-field', error && 'pf-field--invalid', className].filter(Boolean).join(' ')}>
      <Label.Root htmlFor={inputId} className="pf-field__label">
        {label}
      </Label.Root>
      <input {...input} id={inputId} aria-invalid={error ? true : undefined} aria-describedby={describedBy} />
      {hint && (
        <p id={hintId} className="pf-field__hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={errorId} className="pf-field__error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}
