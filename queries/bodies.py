"""Reading request bodies and query strings into pydantic models, or a clear problem."""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from queries.problems import Problem, invalid, not_found

M = TypeVar("M", bound=BaseModel)


def _field_errors(error: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    return [
        {
            "field": prefix + (".".join(str(p) for p in e["loc"]) or "body"),
            "message": e["msg"],
        }
        for e in error.errors(include_url=False)
    ]


async def read_bytes(request: Request, max_bytes: int) -> bytes:
    """The whole body, or 413 as soon as it is known to pass ``max_bytes``."""
    declared = request.headers.get("content-length")
    # isascii: "²" passes str.isdigit but not int()
    if declared and declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_body(request: Request, model: type[M], max_bytes: int) -> M:
    """Parse the JSON body strictly: 413 past ``max_bytes``, 400 if not JSON, 422 naming bad
    fields (types are not coerced: ``"yes"`` is not a boolean)."""
    raw = await read_bytes(request, max_bytes)
    if not raw.strip():
        if not body_required(model):  # the document marks such a body optional: {} it is
            return model.model_validate_json(b"{}", strict=True)
        raise Problem(400, "bad-request", "Missing body", "This route expects a JSON object")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise Problem(400, "bad-json", "Malformed JSON", f"The body is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise invalid([{"field": "body", "message": "must be a JSON object"}])
    try:
        # Strict: a boolean is a JSON boolean and a number a JSON number ("yes" is no boolean);
        # JSON mode still reads UUIDs, times and enums from their strings.
        return model.model_validate_json(raw, strict=True)
    except ValidationError as error:
        raise invalid(_field_errors(error)) from None


def body_required(model: type[BaseModel]) -> bool:
    """Whether a request must carry a body: a model whose every field has a default may be
    left out (``POST /api/albums/{id}/share``); the OpenAPI document says the same."""
    return any(f.is_required() for f in model.model_fields.values())


def read_query(request: Request, model: type[M]) -> M:
    """Validate the query string; a bad parameter is a 422 naming it.

    Lax, unlike bodies: every query parameter arrives as a string, so ``limit=10`` must be read
    as a number.
    """
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as error:
        raise invalid(_field_errors(error, prefix="query.")) from None


def _too_large(max_bytes: int) -> Problem:
    return Problem(413, "body-too-large", "Body too large", f"The limit is {max_bytes} bytes")


def path_uuid(request: Request, name: str) -> UUID:
    """A path id; one that is not even a UUID names nothing, so it is a 404."""
    text = request.path_params[name]
    try:
        return UUID(text)
    except ValueError:
        raise not_found(f"No resource has the id {text!r}") from None
