import { Link } from 'react-router'

/** Any path the app does not know. */
export function NotFoundPage() {
  return (
    <main className="pf-narrow" role="alert">
      <h1>Page not found</h1>
      <p>There is nothing at this address. It may have been mistyped, or the link is old.</p>
      <p>
        <Link to="/app">Go to your studio</Link> · <a href="/">PhotoFlow home</a>
      </p>
    </main>
  )
}
