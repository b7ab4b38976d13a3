"""The machine-readable contract: OpenAPI for HTTP, AsyncAPI for Kafka."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from queries.routing import Endpoint, json, openapi

API_TITLE = "PhotoFlow API"
API_VERSION = "0.1.0"


def doc_endpoints(
    endpoints: Sequence[Endpoint], asyncapi: Callable[[], dict[str, Any]]
) -> list[Endpoint]:
    cache: dict[str, dict[str, Any]] = {}

    async def openapi_json(request: Request) -> Response:
        if "openapi" not in cache:
            cache["openapi"] = openapi([*endpoints, *docs], API_TITLE, API_VERSION)
        return json(cache["openapi"])

    async def asyncapi_json(request: Request) -> Response:
        if "asyncapi" not in cache:
            cache["asyncapi"] = asyncapi()
        return json(cache["asyncapi"])

    docs = [
        Endpoint(
            "GET",
            "/api/openapi.json",
            openapi_json,
            "This document",
            "platform",
            authenticated=False,
            errors=(),
        ),
        Endpoint(
            "GET",
            "/api/asyncapi.json",
            asyncapi_json,
            "The Kafka topics and their events",
            "platform",
            authenticated=False,
            errors=(),
        ),
    ]
    return docs
