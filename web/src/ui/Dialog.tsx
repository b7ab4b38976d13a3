import * as RadixDialog from '@radix-ui/react-dialog'
import type { ReactNode } from 'react'

export interface DialogProps {
  /** The dialog's heading (its accessible name). */
  title: string
  /** One sentence under the title (its accessible description). */
  description?: string
  /** Controlled: whether it is open. Leave out with `trigger` for an uncontrolled dialog. */
  open?: boolean
  onOpenChange?: (open: boolean) => void
  /** The element that opens it, e.g. `<Button>Share</Button>`. */
  trigger?: ReactNode
  children: ReactNode
}

/**
 * A modal dialog (Radix: focus trap, Escape closes, labelled). Put the actions in `children`;
 * wrap a cancel button in `<DialogClose>` to close on click.
 */
export function Dialog({ title, description, open, onOpenChange, trigger, children }: DialogProps) {
  return (
    <RadixDialog.Root open={open} onOpenChange={onOpenChange}>
      {trigger && <RadixDialog.Trigger asChild>{trigger}</RadixDialog.Trigger>}
      <RadixDialog.Portal>
        <RadixDialog.Overlay className="pf-dialog__overlay" />
        <RadixDialog.Content className="pf-dialog" {...(description ? {} : { 'aria-describedby': undefined })}>
          <RadixDialog.Title className="pf-dialog__title">{title}</RadixDialog.Title>
          {description && <RadixDialog.Description className="pf-dialog__description">{description}</RadixDialog.Description>}
          {children}
          <RadixDialog.Close className="pf-dialog__x" aria-label="Close">
            ×
          </RadixDialog.Close>
        </RadixDialog.Content>
      </RadixDialog.Portal>
    </RadixDialog.Root>
  )
}

/** Closes the surrounding `Dialog` when its child is clicked: `<DialogClose asChild><Button>Cancel</Button></DialogClose>`. */
export const DialogClose = RadixDialog.Close
