"""Cursor paging: ``?limit=&cursor=`` in, ``{"items", "next_cursor"}`` out.

A cursor is an opaque, URL-safe encoding of the last row's sort key, so a page never skips or
repeats a row when rows are added while a client pages.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from queries.problems import invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="allow")

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = None


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise invalid(
            [{"field": "query.cursor", "message": "not a cursor from this API"}]
        ) from None
    if not isinstance(key, list):
        raise invalid([{"field": "query.cursor", "message": "not a cursor from this API"}])
    return key


def cursor_pair(key: Sequence[Any] | None) -> tuple[Any, Any]:
    """A two-part cursor as query arguments; (None, None) for the first page."""
    if key is None:
        return None, None
    if len(key) != 2:
        raise invalid([{"field": "query.cursor", "message": "not a cursor from this API"}])
    return key[0], key[1]


def page(items: list[dict[str, Any]], limit: int, key: list[str]) -> dict[str, Any]:
    """Cut one extra fetched row off and turn it into the next cursor."""
    more = len(items) > limit
    items = items[:limit]
    next_cursor = encode_cursor([_jsonable(items[-1][k]) for k in key]) if more else None
    return {"items": items, "next_cursor": next_cursor}


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, int | str) else str(value)
