"""The OpenAPI document, built from the same ``Endpoint`` declarations the router uses.

The statuses that the shared machinery answers on every route (sign-in, rate limits,
consistency tokens, body and query parsing, an unreachable dependency) are added here rather
than repeated by each module, so the document says what the server does without every route
module having to remember it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from queries.bodies import body_required
from queries.outages import RETRY_AFTER_SECONDS
from queries.routing import Endpoint, JsonSchema

CONSISTENCY_HEADER = "X-Consistency-Token"
STALE_HEADER = "X-Stale"
STALE_DESCRIPTION = (
    "Present when a projection parked an event of this aggregate: the read tables named "
    "(comma-separated) show it as it was before that event."
)
PROBLEM_MEDIA_TYPE = "application/problem+json"


def operation_id(e: Endpoint) -> str:
    """``<tag>_<handler>``, without the handler's own repetition of the tag
    (``albums`` + ``album_share`` -> ``albums_share``)."""
    if e.operation_id is not None:
        return e.operation_id
    name = e.handler.__name__
    for prefix in (f"{e.tag}_", f"{e.tag.removesuffix('s')}_"):
        if name.startswith(prefix) and len(name) > len(prefix):
            name = name[len(prefix) :]
            break
    return f"{e.tag}_{name}"


def openapi(endpoints: Sequence[Endpoint], title: str, version: str) -> dict[str, Any]:
    """An OpenAPI 3.1 document from the endpoints' pydantic models."""
    ids = Counter(operation_id(e) for e in endpoints)
    repeated = sorted(i for i, n in ids.items() if n > 1)
    if repeated:
        raise ValueError(f"operationIds used more than once: {', '.join(repeated)}")
    keyed: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for e in endpoints:
        keyed += [(m, "validation") for m in (e.body, e.query) if m is not None]
        keyed += [(m, "serialization") for m in (e.response, *e.error_bodies.values()) if m]
    refs, schema = models_json_schema(
        list(dict.fromkeys(keyed)), ref_template="#/components/schemas/{model}"
    )
    components: dict[str, Any] = dict(schema.get("$defs", {}))
    components["Problem"] = PROBLEM_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        operation: dict[str, Any] = {
            "summary": e.summary,
            "tags": [e.tag],
            "operationId": operation_id(e),
            "responses": _responses(e, refs),
        }
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": dict(e.path_params.get(name) or _path_schema(name)),
            }
            for name in _path_params(e.path)
        ]
        if e.query is not None:
            query = _component(refs[(e.query, "validation")], components)
            required = set(query.get("required", ()))
            for name, info in query.get("properties", {}).items():
                parameters.append(
                    {"name": name, "in": "query", "required": name in required, "schema": info}
                )
        for name, header in e.headers.items():
            parameters.append({"name": name, "in": "header", "required": False, **header})
        if e.authenticated:
            parameters.append(CONSISTENCY_PARAMETER)
        if parameters:
            operation["parameters"] = parameters
        if e.request_content:
            operation["requestBody"] = {
                "required": True,
                "content": {m: {"schema": dict(s)} for m, s in e.request_content.items()},
            }
        if e.body is not None:
            operation["requestBody"] = {
                "required": body_required(e.body),
                "content": {"application/json": {"schema": refs[(e.body, "validation")]}},
            }
        if e.authenticated:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(_document_path(e.path), {})[e.method.lower()] = operation
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


def error_statuses(e: Endpoint) -> list[int]:
    """The route's own errors plus those of the machinery every such route goes through."""
    statuses = set(e.errors) | {503}  # any route may find PostgreSQL, Redis or Kafka down
    if e.authenticated:
        statuses |= {401, 400, 409}  # no or bad token; a bad or unmet X-Consistency-Token
    if e.rate_limited:
        statuses.add(429)
    if e.body is not None:
        statuses |= {400, 413, 422}  # not JSON, too large, invalid fields
    if e.query is not None:
        statuses.add(422)
    if _path_params(e.path):
        statuses.add(404)  # an id that names nothing (or nothing of the caller's studios)
    return sorted(statuses)


def _responses(
    e: Endpoint, refs: Mapping[tuple[Any, JsonSchemaMode], JsonSchema]
) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "Success" if e.status != 204 else "Done, no body"}
    content: dict[str, Any] = {m: {"schema": dict(s)} for m, s in e.content.items()}
    if e.response is not None:
        schema: JsonSchema = refs[(e.response, "serialization")]
        if e.paged:
            schema = {
                "type": "object",
                "required": ["items", "next_cursor"],
                "properties": {
                    "items": {"type": "array", "items": schema},
                    "next_cursor": {"type": ["string", "null"]},
                },
            }
        content["application/json"] = {"schema": schema}
    if content:
        ok["content"] = content
    headers = dict(e.response_headers)
    if e.method.upper() == "GET" and _path_params(e.path):
        headers[STALE_HEADER] = STALE_DESCRIPTION  # queries.staleness marks such reads
    if headers:
        ok["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    responses: dict[str, Any] = {str(e.status): ok}
    for status in error_statuses(e):
        described: dict[str, Any] = {"description": HTTP_REASONS.get(status, "Error")}
        model = e.error_bodies.get(status)
        if model is not None:
            described["content"] = {"application/json": {"schema": refs[(model, "serialization")]}}
        else:
            described["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}
        if status in RETRY_HEADERS:
            described["headers"] = {"Retry-After": RETRY_HEADERS[status]}
        if status == 401:
            described["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        responses[str(status)] = described
    return responses


def _component(ref: JsonSchema, components: Mapping[str, Any]) -> JsonSchema:
    name = str(ref["$ref"]).rsplit("/", 1)[-1]
    found: JsonSchema = components[name]
    return found


def _path_schema(name: str) -> JsonSchema:
    """Every ``*_id`` of a path is a UUID; tokens, tags and kinds are text."""
    if name.endswith("_id"):
        return {"type": "string", "format": "uuid"}
    return {"type": "string"}


def _document_path(path: str) -> str:
    """The path as OpenAPI spells it: ``{tag:path}`` (a starlette converter) is ``{tag}``."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def _path_params(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


HTTP_REASONS = {
    400: "Malformed request (body, header or cursor)",
    401: "Sign-in required: no, an invalid or an expired access token",
    403: "Your role in this studio does not allow it",
    404: "Not found (or not yours)",
    409: "Conflict: a workflow rule, a concurrent write, or a write not visible yet",
    410: "Gone",
    413: "Body too large",
    422: "Invalid input",
    429: "Too many requests; see Retry-After",
    503: "A server PhotoFlow depends on does not answer; see Retry-After",
}

RETRY_HEADERS: dict[int, JsonSchema] = {
    429: {"schema": {"type": "string"}, "description": "Seconds until the window resets"},
    503: {
        "schema": {"type": "string"},
        "description": f"Seconds to wait, usually {RETRY_AFTER_SECONDS}",
    },
}

CONSISTENCY_PARAMETER: JsonSchema = {
    "name": CONSISTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": "A command's consistency_token: the read waits (up to a few seconds, then "
    "409) until the read tables include that write.",
    "schema": {"type": "string"},
}

PROBLEM_REF: JsonSchema = {"$ref": "#/components/schemas/Problem"}

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
