"""Cursor paging: ``?limit=&cursor=`` in, ``{"items", "next_cursor"}`` out.

A cursor is an opaque, URL-safe encoding of the last row's sort key, so a page never skips or
repeats a row when rows are added while a client pages.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field

from queries.problems import Problem, invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="allow")

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = None


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """The JSON list inside a cursor, untyped; see ``SortKey.after`` for the typed parts."""
    if cursor is None:
        return None
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise _not_a_cursor() from None
    if not isinstance(key, list):
        raise _not_a_cursor()
    return key


PartType = type[datetime] | type[UUID] | type[str] | type[int]
BIGINT = 2**63


@dataclass(frozen=True)
class SortKey:
    """A list's order: the row fields that make its cursor, and the type of each part.

    Both directions live here, so a route cannot read a cursor differently from how it wrote
    it, and whatever a client makes of a cursor (another list's, a made-up one, wrong types,
    huge numbers) is a 422 naming ``query.cursor`` before any statement runs.
    """

    fields: tuple[str, ...]
    types: tuple[PartType, ...]

    def after(self, cursor: str | None) -> tuple[Any, ...] | None:
        """The typed sort key the page starts after; None for the first page."""
        key = decode_cursor(cursor)
        if key is None:
            return None
        if len(key) != len(self.types):
            raise _not_a_cursor()
        return tuple(_part(kind, value) for kind, value in zip(self.types, key, strict=True))

    def arguments(self, cursor: str | None) -> tuple[Any, ...]:
        """The key's parts as statement arguments: all None for the first page."""
        after = self.after(cursor)
        return after if after is not None else (None,) * len(self.types)

    def page(self, items: list[dict[str, Any]], limit: int) -> dict[str, Any]:
        return page(items, limit, list(self.fields))


def _part(kind: PartType, value: Any) -> Any:
    """One part of a cursor, as the type the statement binds; a 422 for anything else."""
    try:
        if kind is int:
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < BIGINT:
                return value
        elif isinstance(value, str) and "\x00" not in value:
            if kind is str:
                return value
            if kind is UUID:
                return UUID(value)
            if kind is datetime:
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is not None:
                    return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    raise _not_a_cursor()


def _not_a_cursor() -> Problem:
    return invalid([{"field": "query.cursor", "message": "not a cursor from this API"}])


def page(items: list[dict[str, Any]], limit: int, key: list[str]) -> dict[str, Any]:
    """Cut one extra fetched row off and turn it into the next cursor."""
    more = len(items) > limit
    items = items[:limit]
    next_cursor = encode_cursor([_jsonable(items[-1][k]) for k in key]) if more else None
    return {"items": items, "next_cursor": next_cursor}


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, int | str) else str(value)
