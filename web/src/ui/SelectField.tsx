import * as Label from '@radix-ui/react-label'
import { useId, type SelectHTMLAttributes } from 'react'

export interface SelectFieldProps extends SelectHTMLAttributes<HTMLSelectElement> {
  /** The visible label (also the select's accessible name). */
  label: string
  options: Array<{ value: string; label: string }>
  /** The error to show under the select, e.g. `problem?.fieldError('role')`. */
  error?: string
  hint?: string
}

/** A labelled native `<select>` (keyboard and phone friendly) with its error next to it. */
export function SelectField({ label, options, error, hint, id, className, ...select }: SelectFieldProps) {
  const generated = useId()
  const selectId = id ?? generated
  const hintId = `${selectId}-hint`
  const errorId = `${selectId}-error`
  const describedBy = [hint && hintId, error && errorId].filter(Boolean).join(' ') || undefined
  return (
    <div className={['pf-field', error && 'pf-field--invalid', className].filter(Boolean).join(' ')}>
      <Label.Root htmlFor={selectId} className="pf-field__label">
        {label}
      </Label.Root>
      <select {...select} id={selectId} aria-invalid={error ? true : undefined} aria-describedby={describedBy}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
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
