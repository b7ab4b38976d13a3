"""RFC 9457 problem details: the one shape every error takes on the wire."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from domains.errors import ConcurrencyConflict, DomainError, InvalidValue, NotFound, RuleBroken
from domains.policies import Forbidden
from domains.user import SignInRefused

PROBLEM_BASE = "https://photoflow.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """An error answer; raise it anywhere in a route."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers

    def body(self, instance: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def invalid(errors: list[dict[str, str]]) -> Problem:
    fields = ", ".join(e["field"] for e in errors)
    return Problem(422, "validation", "Invalid input", f"Check these fields: {fields}", errors)


def from_domain(error: DomainError) -> Problem:
    if isinstance(error, InvalidValue):
        return invalid([{"field": error.field, "message": error.message}])
    if isinstance(error, NotFound):
        return not_found(str(error))
    if isinstance(error, SignInRefused):
        return Problem(
            401,
            "unauthenticated",
            "Sign-in refused",
            str(error),
            headers={"WWW-Authenticate": "Bearer"},
        )
    if isinstance(error, Forbidden):
        return Problem(403, "forbidden", "Not allowed", str(error))
    if isinstance(error, ConcurrencyConflict):
        return Problem(409, "concurrency-conflict", "Concurrent write", str(error))
    if isinstance(error, RuleBroken):
        return Problem(409, "rule-broken", "Not allowed now", str(error))
    return Problem(409, "rule-broken", "Refused", str(error))


def not_found(detail: str = "No such resource") -> Problem:
    return Problem(404, "not-found", "Not found", detail)


def render(problem: Problem, request: Request) -> Response:
    return Response(
        orjson.dumps(problem.body(request.url.path)),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=problem.headers,
    )
