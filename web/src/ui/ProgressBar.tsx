import * as Progress from '@radix-ui/react-progress'

export interface ProgressBarProps {
  /** What progresses ("Syncing folder"); the accessible name. */
  label: string
  /** Done so far; `null` while unknown (an indeterminate bar). */
  value: number | null
  /** The total (default 100). */
  max?: number
}

/** A labelled progress bar with the figures as text: "Syncing folder 120 / 400 (30 %)". */
export function ProgressBar({ label, value, max = 100 }: ProgressBarProps) {
  const percent = value === null || max <= 0 ? null : Math.min(100, Math.round((value / max) * 100))
  return (
    <div className="pf-progress">
      <div className="pf-progress__text">
        <span>{label}</span>
        <span>{value === null ? 'working…' : `${value} / ${max} (${percent} %)`}</span>
      </div>
      <Progress.Root className="pf-progress__track" value={value} max={max} aria-label={label}>
        <Progress.Indicator
          className="pf-progress__bar"
          style={{ transform: `translateX(-${100 - (percent ?? 30)}%)` }}
          data-indeterminate={percent === null || undefined}
        />
      </Progress.Root>
    </div>
  )
}
