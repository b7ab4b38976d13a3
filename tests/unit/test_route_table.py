"""The route table finds, for any path, the route starlette's scan in declared order finds."""

from __future__ import annotations

from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from queries.route_table import RouteTable, literal_head


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("not called")


TEMPLATES = [
    "/api/orgs",
    "/api/{anything}/me",  # parameter in the second segment: checked for every /api/ path
    "/api/orgs/{org_id}",
    "/api/albums/{album_id}",
    "/api/albums/{album_id}/photos/{photo_id}/select",
    "/api/share/{token}/photos/{photo_id}/select",
    "/{page}",
    "/files/{path:path}",
    "/api/albums/export",  # declared after the parameter route that also matches it
    "/",
]
PATHS = [
    "/api/orgs",
    "/api/orgs/",
    "/api/orgs/7",
    "/api/albums/me",
    "/api/orgs/me",
    "/api/albums/export",
    "/api/albums/1/photos/2/select",
    "/api/share/t/photos/2/select",
    "/api/share/t/photos/2/rate",
    "/api/nothing/here",
    "/files/a/b/c.jpg",
    "/about",
    "/",
    "",
    "/api",
]


def scanned(routes: list[Route], path: str) -> str | None:
    """Starlette's own order: the first route that matches."""
    for route in routes:
        if route.matches({"type": "http", "path": path, "method": "GET"})[0] is Match.FULL:
            return route.path
    return None


def tabled(table: RouteTable, path: str) -> str | None:
    match, child = table.matches({"type": "http", "path": path, "method": "GET"})
    return child["route"].path if match is Match.FULL else None


def test_every_path_goes_to_the_route_the_declared_order_gives() -> None:
    routes = [Route(t, app) for t in TEMPLATES]
    table = RouteTable(routes)
    assert {p: tabled(table, p) for p in PATHS} == {p: scanned(routes, p) for p in PATHS}
    assert tabled(table, "/api/albums/export") == "/api/albums/{album_id}"
    assert tabled(table, "/api/orgs/me") == "/api/{anything}/me"


def test_only_the_leading_plain_words_of_a_template_index_it() -> None:
    assert literal_head("/api/albums/{album_id}/photos") == ("api", "albums")
    assert literal_head("/api/{anything}/me") == ("api",)
    assert literal_head("/{page}") == ()
    assert literal_head("/") == ("",)


def test_a_root_path_is_cut_only_where_starlette_cuts_it() -> None:
    routes = [Route(t, app) for t in ["/apiary/x/y", "/api/orgs"]]
    table = RouteTable(routes)
    for path in ("/apiary/x/y", "/api/api/orgs", "/api"):
        scope = {"type": "http", "path": path, "root_path": "/api", "method": "GET"}
        expected = next(
            (r.path for r in routes if r.matches(scope)[0] is Match.FULL),
            None,
        )
        match, child = table.matches(scope)
        assert (child["route"].path if match is Match.FULL else None) == expected
