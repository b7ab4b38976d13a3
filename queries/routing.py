"""Endpoints declared once, serving both the starlette routes and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Endpoint:
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


def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def routes(endpoints: Sequence[Endpoint]) -> list[Route]:
    return [Route(e.path, e.handler, methods=[e.method]) for e in endpoints]


def openapi(endpoints: Sequence[Endpoint], title: str, version: str) -> dict[str, Any]:
    """An OpenAPI 3.1 document from the endpoints' pydantic models."""
    keyed: list[tuple[type[BaseModel], Any]] = [
        (e.body, "validation") for e in endpoints if e.body is not None
    ]
    keyed += [(e.response, "serialization") for e in endpoints if e.response is not None]
    _, schema = models_json_schema(
        list(dict.fromkeys(keyed)), ref_template="#/components/schemas/{model}"
    )
    components = dict(schema.get("$defs", {}))
    components["Problem"] = PROBLEM_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        operation: dict[str, Any] = {
            "summary": e.summary,
            "tags": [e.tag],
            "operationId": e.handler.__name__,
            "responses": _responses(e),
        }
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _path_params(e.path)
        ]
        if e.query is not None:
            for name, info in e.query.model_json_schema()["properties"].items():
                parameters.append({"name": name, "in": "query", "required": False, "schema": info})
        if parameters:
            operation["parameters"] = parameters
        if e.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(e.body)}},
            }
        if e.authenticated:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(e.path, {})[e.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def _responses(e: Endpoint) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "Success"}
    if e.response is not None:
        schema: dict[str, Any] = _ref(e.response)
        if e.paged:
            schema = {
                "type": "object",
                "required": ["items", "next_cursor"],
                "properties": {
                    "items": {"type": "array", "items": schema},
                    "next_cursor": {"type": ["string", "null"]},
                },
            }
        ok["content"] = {"application/json": {"schema": schema}}
    problem = {
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    }
    responses: dict[str, Any] = {str(e.status): ok}
    for status in e.errors:
        responses[str(status)] = {"description": HTTP_REASONS.get(status, "Error"), **problem}
    return responses


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _path_params(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


HTTP_REASONS = {
    400: "Malformed request",
    404: "Not found (or not yours)",
    409: "Conflict",
    413: "Body too large",
    422: "Invalid input",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
