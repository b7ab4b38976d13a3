/**
 * The platform answers every error as RFC 9457 problem+json (see ../shared/contract.md,
 * "HTTP conventions"). `ApiProblem` is that answer as a thrown error, so a page can show
 * `title` and `detail`, and each form field its own message (`fieldError('email')`).
 */

export interface FieldError {
  field: string
  message: string
}

export class ApiProblem extends Error {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly errors: FieldError[]

  constructor(init: { type: string; title: string; status: number; detail: string; errors?: FieldError[] }) {
    super(`${init.title}: ${init.detail}`)
    this.name = 'ApiProblem'
    this.type = init.type
    this.title = init.title
    this.status = init.status
    this.detail = init.detail
    this.errors = init.errors ?? []
  }

  /** The last part of `type` (`.../share-expired` -> `share-expired`). */
  get kind(): string {
    return this.type.split('/').pop() ?? this.type
  }

  /** The message for one field of the request body (`email`, `password`...), if any. */
  fieldError(field: string): string | undefined {
    return this.errors.find((e) => e.field === field || e.field.endsWith(`.${field}`))?.message
  }

  /** Build one from any error answer: problem+json when the server sent one, else the status. */
  static async from(response: Response): Promise<ApiProblem> {
    let body: unknown = undefined
    try {
      body = await response.clone().json()
    } catch {
      // not JSON (a proxy's page, an empty body): described by its status below
    }
    if (isProblemBody(body)) {
      return new ApiProblem({
        type: body.type,
        title: body.title,
        status: typeof body.status === 'number' ? body.status : response.status,
        detail: typeof body.detail === 'string' ? body.detail : '',
        errors: Array.isArray(body.errors)
          ? body.errors.map((e) => ({ field: String(e?.field ?? ''), message: String(e?.message ?? '') }))
          : [],
      })
    }
    return new ApiProblem({
      type: 'about:blank',
      title: response.statusText || `Error ${response.status}`,
      status: response.status,
      detail: `The server answered ${response.status} without explaining why.`,
    })
  }
}

interface ProblemBody {
  type: string
  title: string
  status?: unknown
  detail?: unknown
  errors?: Array<{ field?: unknown; message?: unknown } | null>
}

function isProblemBody(body: unknown): body is ProblemBody {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as ProblemBody).type === 'string' &&
    typeof (body as ProblemBody).title === 'string'
  )
}

/** A problem for errors that never reached the server (offline, DNS, CORS). */
export function networkProblem(error: unknown): ApiProblem {
  return new ApiProblem({
    type: 'about:blank',
    title: 'No connection',
    status: 0,
    detail: `PhotoFlow could not be reached (${error instanceof Error ? error.message : String(error)}). Check your connection and try again.`,
  })
}
