"""The machine-readable contract: OpenAPI for HTTP, AsyncAPI for Kafka."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from queries.openapi import openapi
from queries.routing import Endpoint, json
from queries.schemas import AsyncApiDocument, OpenApiDocument

API_TITLE = "PhotoFlow API"
API_VERSION = "0.1.0"


def doc_endpoints(
    endpoints: Sequence[Endpoint], asyncapi: Callable[[], dict[str, Any]]
) -> list[Endpoint]:
    """The two documents, built once on first request.

    The OpenAPI document is also built here, eagerly, so a declaration error (an operationId
    used twice, a response model pydantic cannot describe) stops the API at start-up rather
    than on the first client that asks for the document.
    """
    cache: dict[str, dict[str, Any]] = {}

    async def openapi_json(request: Request) -> Response:
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
            response=OpenApiDocument,
            authenticated=False,
            errors=(),
            operation_id="platform_openapi",
        ),
        Endpoint(
            "GET",
            "/api/asyncapi.json",
            asyncapi_json,
            "The Kafka topics and their events",
            "platform",
            response=AsyncApiDocument,
            authenticated=False,
            errors=(),
            operation_id="platform_asyncapi",
        ),
    ]
    cache["openapi"] = openapi([*endpoints, *docs], API_TITLE, API_VERSION)
    return docs
