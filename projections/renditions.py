"""Read table ``read.renditions``: which checksums have their thumbnail and preview ready.

Keyed by checksum like the rendition store, so a folder's count is a join with ``read.files``
and a renamed or re-synced unchanged file is ready at once. A file that could not be rendered
is kept with its reason; a later success for the same checksum wins, a failure never
overwrites a success.
"""

from __future__ import annotations

from typing import Any, ClassVar

import asyncpg

from broker.envelope import Envelope
from broker.topics import RENDITIONS
from projections.base import Statement, StatementProjection


def _size(entry: dict[str, Any], kind: str, axis: int) -> int | None:
    sizes = entry.get("sizes") or {}
    pair = sizes.get(kind)
    return int(pair[axis]) if pair else None


def _once_each(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per checksum (the last): copies of a file share it, and one upsert may not
    touch a row twice."""
    return list({entry["checksum"]: entry for entry in entries}.values())


def _ready(e: Envelope) -> tuple[Any, ...]:
    ready = _once_each(e.data["ready"])
    return (
        [r["checksum"] for r in ready],
        [_size(r, "thumbnail", 0) for r in ready],
        [_size(r, "thumbnail", 1) for r in ready],
        [_size(r, "preview", 0) for r in ready],
        [_size(r, "preview", 1) for r in ready],
        e.occurred_at,
    )


def _failed(e: Envelope) -> tuple[Any, ...]:
    failed = _once_each(e.data["failed"])
    return ([f["checksum"] for f in failed], [f["reason"] for f in failed], e.occurred_at)


STATEMENTS: dict[str, tuple[Statement, ...]] = {
    "RenditionsMade": (
        (
            """
            INSERT INTO read.renditions AS r (checksum, state, thumbnail_width,
                thumbnail_height, preview_width, preview_height, reason, updated_at)
            SELECT c, 'ready', tw, th, pw, ph, NULL, $6
            FROM unnest($1::text[], $2::int[], $3::int[], $4::int[], $5::int[])
                AS u(c, tw, th, pw, ph)
            ON CONFLICT (checksum) DO UPDATE SET state = 'ready', reason = NULL,
                thumbnail_width = COALESCE(EXCLUDED.thumbnail_width, r.thumbnail_width),
                thumbnail_height = COALESCE(EXCLUDED.thumbnail_height, r.thumbnail_height),
                preview_width = COALESCE(EXCLUDED.preview_width, r.preview_width),
                preview_height = COALESCE(EXCLUDED.preview_height, r.preview_height),
                updated_at = EXCLUDED.updated_at
            """,
            _ready,
        ),
        (
            """
            INSERT INTO read.renditions AS r (checksum, state, reason, updated_at)
            SELECT c, 'failed', why, $3 FROM unnest($1::text[], $2::text[]) AS u(c, why)
            ON CONFLICT (checksum) DO UPDATE SET reason = EXCLUDED.reason,
                updated_at = EXCLUDED.updated_at
            WHERE r.state = 'failed'
            """,
            _failed,
        ),
    ),
}


class RenditionsProjection(StatementProjection):
    name: ClassVar[str] = "renditions"
    topics: ClassVar[tuple[str, ...]] = (RENDITIONS.topic,)
    tables: ClassVar[tuple[str, ...]] = ("read.renditions",)
    statements: ClassVar[dict[str, tuple[Statement, ...]]] = STATEMENTS

    async def create_tables(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            """
            CREATE SCHEMA IF NOT EXISTS read;
            CREATE TABLE IF NOT EXISTS read.renditions (
                checksum text PRIMARY KEY,
                state text NOT NULL,
                thumbnail_width int,
                thumbnail_height int,
                preview_width int,
                preview_height int,
                reason text,
                updated_at timestamptz NOT NULL
            );
            CREATE INDEX IF NOT EXISTS files_checksum_idx ON read.files (checksum);
            """
        )
