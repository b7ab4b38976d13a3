import { Component, type ErrorInfo, type ReactNode } from 'react'
import { ProblemMessage } from './ProblemMessage'

interface State {
  error: unknown
}

/** Shows what went wrong instead of a blank page when a page throws while rendering. */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  state: State = { error: null }

  static getDerivedStateFromError(error: unknown): State {
    return { error }
  }

  componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error('page failed', error, info.componentStack)
  }

  render() {
    if (this.state.error) {
      return (
        <main className="pf-page">
          <ProblemMessage error={this.state.error}>
            <p>
              <a href={window.location.pathname}>Reload the page</a>
            </p>
          </ProblemMessage>
        </main>
      )
    }
    return this.props.children
  }
}
