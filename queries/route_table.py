"""The API's routes found by their path's first words instead of one by one.

Starlette tries its routes in order, a regular expression each, until one matches. With about
150 paths, routing a guest's pick (declared late) cost about 7 % of an API process's CPU under
100 pickers (py-spy with ``--gil`` on ``make bench albums``). The table sorts the routes by the
first ``DEPTH`` literal segments of their paths and tries only those that share the request's,
with the routes whose leading segments are parameters, all in the order declared: the first
match is the one starlette's own scan would have found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette._utils import get_route_path
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

DEPTH = 2
Head = tuple[str, ...]


def literal_head(path: str) -> Head:
    """The leading segments of a route's path template that are plain words, up to ``DEPTH``."""
    head: list[str] = []
    for segment in path.split("/")[1 : DEPTH + 1]:
        if "{" in segment:
            break
        head.append(segment)
    return tuple(head)


def request_head(scope: Scope) -> Head:
    # The path as starlette's routes see it (``root_path`` cut at a segment boundary only).
    path = get_route_path(scope)
    return tuple(path.split("/", DEPTH + 1)[1 : DEPTH + 1])


class RouteTable(BaseRoute):
    """One starlette route standing for many; the route that matched goes in the scope."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = list(routes)
        anywhere = [r for r in self.routes if len(literal_head(r.path)) < DEPTH]
        by_head: dict[Head, list[Route]] = {}
        for route in self.routes:
            head = literal_head(route.path)
            if len(head) == DEPTH:
                by_head.setdefault(head, []).append(route)
        order = {id(route): n for n, route in enumerate(self.routes)}
        self._anywhere = anywhere
        self._by_head = {
            head: sorted([*found, *anywhere], key=lambda r: order[id(r)])
            for head, found in by_head.items()
        }

    def candidates(self, scope: Scope) -> list[Route]:
        return self._by_head.get(request_head(scope), self._anywhere)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        partial: tuple[Match, Scope] | None = None
        for route in self.candidates(scope):
            match, child = route.matches(scope)
            if match is Match.FULL:
                return match, {**child, "route": route}
            if match is Match.PARTIAL and partial is None:
                partial = (match, {**child, "route": route})
        return partial or (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope["route"].handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)
