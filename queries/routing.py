"""Endpoints declared once, serving both the starlette routes and the OpenAPI document.

This module turns the declarations into routes (one per path, dispatching on the method, so a
405 names every method of the path); ``queries.openapi`` turns the same declarations into the
document, so the document says what the router does.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import Receive, Scope, Send

from queries.auth import unauthenticated
from queries.route_table import RouteTable

Handler = Callable[[Request], Awaitable[Response]]
JsonSchema = dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    """One operation: its route, its handler and what the document says about it.

    ``errors`` lists the statuses only this route answers (403 for a role, 409 for a workflow
    rule...); the ones every route of its kind answers are added by ``openapi``. ``content``
    documents a 2xx body that is not JSON (media type -> JSON schema of the text),
    ``request_content`` a request body that is not JSON (an upload), and
    ``error_bodies`` an error status whose body is not a problem (health's 503). ``headers``
    are the request headers the route reads (name -> ``{"description", "schema"}``),
    ``response_headers`` those its success answer carries (name -> description).
    """

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    status: int = 200
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    paged: bool = False
    authenticated: bool = True
    errors: Sequence[int] = field(default=(400, 404, 422))
    operation_id: str | None = None
    content: Mapping[str, JsonSchema] = field(default_factory=dict)
    request_content: Mapping[str, JsonSchema] = field(default_factory=dict)
    error_bodies: Mapping[int, type[BaseModel]] = field(default_factory=dict)
    path_params: Mapping[str, JsonSchema] = field(default_factory=dict)
    headers: Mapping[str, JsonSchema] = field(default_factory=dict)
    response_headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def rate_limited(self) -> bool:
        """Signed-in calls count against the caller's limit; sign-in calls against the
        address's (``queries.gate`` limits every POST under /api/auth/)."""
        return self.authenticated or (self.method == "POST" and self.path.startswith("/api/auth/"))


def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


# Routes ----------------------------------------------------------------------------------------


class _PathRoute:
    """Every method of one path behind one starlette route.

    Starlette answers a 405 from the one ``Route`` whose path matched first, so with one route
    per (method, path) its ``Allow`` named only that route's method (``OPTIONS /api/orgs`` said
    ``Allow: POST`` although GET is served too). One route per path knows all of them.
    """

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        self._handlers: dict[str, Handler] = {
            e.method.upper(): _signed_in_first(e.handler) if e.authenticated else e.handler
            for e in endpoints
        }
        methods = set(self._handlers)
        if "GET" in methods:
            methods.add("HEAD")
        methods.add("OPTIONS")
        self.allow = ", ".join(sorted(methods))
        self._app = request_response(self._dispatch)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    async def _dispatch(self, request: Request) -> Response:
        method = request.method.upper()
        if method == "OPTIONS":  # a CORS preflight never gets here: the middleware answers it
            return Response(status_code=204, headers={"Allow": self.allow})
        handler = self._handlers.get("GET" if method == "HEAD" else method)
        if handler is None:
            raise HTTPException(405, headers={"Allow": self.allow})
        return await handler(request)


def _signed_in_first(handler: Handler) -> Handler:
    """A call without any bearer token is a 401 before its path or query is even read.

    The full check (signature, revocation, roles) stays in ``principal_of``, once per request;
    this only makes the answer to an anonymous caller the same on every protected route.
    """

    async def signed_in(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthenticated("Send Authorization: Bearer <access token>")
        return await handler(request)

    signed_in.__name__ = handler.__name__
    return signed_in


def routes(endpoints: Sequence[Endpoint]) -> list[BaseRoute]:
    """One route per path, in the order the paths were first declared, in one table."""
    by_path: dict[str, list[Endpoint]] = {}
    for e in endpoints:
        by_path.setdefault(e.path, []).append(e)
    for path, group in by_path.items():
        twice = [m for m, n in Counter(e.method.upper() for e in group).items() if n > 1]
        if twice:
            raise ValueError(f"{path}: {', '.join(twice)} declared more than once")
    shapes = Counter(re.sub(r"\{[^}]*\}", "{}", path) for path in by_path)
    if any(n > 1 for n in shapes.values()):
        # /api/x/{id} and /api/x/{x_id} would be two routes again, and the first one's 405
        # would not know the second one's methods.
        raise ValueError(f"one path spelled with different parameter names: {shapes}")
    # Starlette takes a callable object (not a function) for an ASGI app that accepts every
    # method, so the path route does the method dispatch itself.
    return [RouteTable([Route(path, _PathRoute(group)) for path, group in by_path.items()])]


# The document ----------------------------------------------------------------------------------
