/** Five star buttons (the guest's own rating); pressing the current rating clears it. */
export function Stars({
  value,
  name,
  disabled,
  onRate,
  size = 'small',
}: {
  value: number
  name: string
  disabled?: boolean
  onRate: (rating: number) => void
  size?: 'small' | 'large'
}) {
  return (
    <div className={`g-stars g-stars--${size}`} role="group" aria-label={`Your rating of ${name}: ${value ? `${value} of 5 stars` : 'not rated'}`}>
      {[1, 2, 3, 4, 5].map((n) => (
        <button
          key={n}
          type="button"
          className={n <= value ? 'g-star g-star--on' : 'g-star'}
          aria-label={`${n} star${n > 1 ? 's' : ''}`}
          aria-pressed={n === value}
          disabled={disabled}
          onClick={() => onRate(n === value ? 0 : n)}
        >
          <span aria-hidden="true">{n <= value ? '★' : '☆'}</span>
        </button>
      ))}
    </div>
  )
}
