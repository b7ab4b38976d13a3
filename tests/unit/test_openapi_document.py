"""The OpenAPI document and the router are built from the same declarations: what one says,
the other does. These checks need no services: the route modules only declare endpoints."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from queries.albums import album_endpoints
from queries.app import _health_answers_its_report, _http_error
from queries.audit import audit_endpoints
from queries.docs import doc_endpoints
from queries.health import health_endpoints
from queries.identity import identity_endpoints
from queries.members import member_endpoints
from queries.openapi import openapi
from queries.orgs import org_endpoints
from queries.problems import Problem, render
from queries.providers import provider_endpoints
from queries.routing import Endpoint, json, routes
from queries.storage import storage_endpoints

Unused: Any = None


def every_endpoint() -> list[Endpoint]:
    endpoints = [
        *_health_answers_its_report(health_endpoints(Unused, Unused, Unused, [], "unit")),
        *identity_endpoints(Unused, Unused, Unused, 1024, 1.0),
        *org_endpoints(Unused, Unused, 1024, 1.0),
        *member_endpoints(Unused, Unused, 1024),
        *provider_endpoints(Unused, Unused, 1024, 1.0),
        *storage_endpoints(Unused, Unused, Unused, 1024),
        *album_endpoints(Unused, Unused, 1024),
        *audit_endpoints(Unused),
    ]
    return [*endpoints, *doc_endpoints(endpoints, lambda: {})]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi(every_endpoint(), "PhotoFlow API", "test")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_operation_ids_are_unique_and_a_repeat_is_refused(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))
    assert {"auth_register", "storage_register", "albums_photos", "storage_photos"} <= set(ids)

    async def register(request: Request) -> Response:
        return json({})

    twice = [Endpoint("GET", f"/api/{n}", register, "x", "auth") for n in ("a", "b")]
    with pytest.raises(ValueError, match="auth_register"):
        openapi(twice, "x", "1")


def test_ids_in_paths_are_uuids(document: dict[str, Any]) -> None:
    for _, path, op in operations(document):
        for parameter in op.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                assert parameter["schema"] == {"type": "string", "format": "uuid"}, path


def test_every_operation_documents_its_failures(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        responses = op["responses"]
        assert "503" in responses, f"{method} {path}"
        if op.get("security"):
            assert {"401", "429"} <= set(responses), f"{method} {path}"
        for status, answer in responses.items():
            if status.startswith("2") and status != "204":
                assert answer.get("content"), f"{method} {path}: no schema for its {status} body"


def test_a_body_is_required_only_when_a_field_is() -> None:
    document = openapi(every_endpoint(), "x", "1")
    body = {
        (m, p): op["requestBody"]["required"]
        for m, p, op in operations(document)
        if "requestBody" in op
    }
    assert body[("POST", "/api/orgs")] is True
    assert body[("POST", "/api/albums/{album_id}/share")] is False
    assert body[("POST", "/api/storage/folders/{folder_id}/sync")] is False


def app_of(endpoints: list[Endpoint]) -> httpx.AsyncClient:
    async def problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return render(exc, request)

    app = Starlette(
        routes=routes(endpoints),
        exception_handlers={Problem: problem, HTTPException: _http_error},
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://unit")


class Named(BaseModel):
    name: str


async def test_a_path_answers_every_method_it_has_and_names_them_on_405() -> None:
    async def listed(request: Request) -> Response:
        return json({"items": []})

    async def created(request: Request) -> Response:
        return json({"ok": True}, 201)

    client = app_of(
        [
            Endpoint("POST", "/api/things", created, "x", "t", authenticated=False, body=Named),
            Endpoint("GET", "/api/things", listed, "x", "t", authenticated=False),
        ]
    )
    assert (await client.get("/api/things")).status_code == 200
    assert (await client.post("/api/things")).status_code == 201
    refused = await client.delete("/api/things")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert refused.headers["content-type"].startswith("application/problem+json")
    options = await client.options("/api/things")
    assert (options.status_code, options.headers["allow"]) == (204, "GET, HEAD, OPTIONS, POST")


async def test_a_protected_operation_refuses_an_anonymous_call_before_reading_anything() -> None:
    async def strict(request: Request) -> Response:
        raise AssertionError("the handler ran without a token")

    client = app_of([Endpoint("GET", "/api/private/{thing_id}", strict, "x", "t")])
    refused = await client.get("/api/private/not-a-uuid?limit=nonsense")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"


def test_the_headers_routes_read_and_answer_are_documented(document: dict[str, Any]) -> None:
    org = document["paths"]["/api/orgs/{org_id}"]
    assert {"ETag", "X-Stale"} <= set(org["get"]["responses"]["200"]["headers"])
    assert "If-Match" in {p["name"] for p in org["patch"]["parameters"] if p["in"] == "header"}
    select = document["paths"]["/api/share/{share_token}/photos/{photo_id}/select"]["post"]
    assert "X-Guest" in {p["name"] for p in select["parameters"]}
    assert "X-Consistency-Token" in {p["name"] for p in org["get"]["parameters"]}
    assert "security" not in select


def test_one_path_spelled_two_ways_is_refused() -> None:
    async def handler(request: Request) -> Response:
        return json({})

    with pytest.raises(ValueError, match="different parameter names"):
        routes(
            [
                Endpoint("GET", "/api/things/{thing_id}", handler, "x", "t"),
                Endpoint("DELETE", "/api/things/{id}", handler, "x", "t"),
            ]
        )
