/**
 * The shared UI kit: small, accessible pieces for the portal and the gallery. Styles are in
 * ./ui.css (class names `pf-*`), loaded once by the app's entry.
 */
export { Button, type ButtonProps } from './Button'
export { Dialog, DialogClose, type DialogProps } from './Dialog'
export { ErrorBoundary } from './ErrorBoundary'
export { Field, type FieldProps } from './Field'
export { ProblemMessage, type ProblemMessageProps } from './ProblemMessage'
export { ProgressBar, type ProgressBarProps } from './ProgressBar'
export { SelectField, type SelectFieldProps } from './SelectField'
export { Spinner, type SpinnerProps } from './Spinner'
