"""Read table ``read.renditions``: which checksums have their thumbnail and preview ready.

Keyed by checksum like the rendition store, so a folder's count is a join with ``read.files``
and a renamed or re-synced unchanged file is ready at once. A file that could not be rendered
is kept with its reason; a later success for the same checksum wins, a failure never
overwrites a success.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import asyncpg

from broker.envelope import Event
from broker.topics import RENDITIONS
from projections.base import Projection, Staging


def _size(entry: dict[str, Any], kind: str, axis: int) -> int | None:
    sizes = entry.get("sizes") or {}
    pair = sizes.get(kind)
    return int(pair[axis]) if pair else None


def _once_each(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per checksum (the last): copies of a file share it."""
    return list({entry["checksum"]: entry for entry in entries}.values())


COLUMNS = (
    ("checksum", "text"),
    ("state", "text"),
    ("thumbnail_width", "int"),
    ("thumbnail_height", "int"),
    ("preview_width", "int"),
    ("preview_height", "int"),
    ("reason", "text"),
    ("updated_at", "timestamptz"),
)
STAGING = Staging("renditions_staging", COLUMNS)
MERGE = f"""
    INSERT INTO read.renditions AS r (checksum, state, thumbnail_width, thumbnail_height,
        preview_width, preview_height, reason, updated_at)
    SELECT checksum, 'ready', thumbnail_width, thumbnail_height, preview_width, preview_height,
        NULL, updated_at
    FROM {STAGING.table} WHERE state = 'ready' ORDER BY checksum
    ON CONFLICT (checksum) DO UPDATE SET state = 'ready', reason = NULL,
        thumbnail_width = COALESCE(EXCLUDED.thumbnail_width, r.thumbnail_width),
        thumbnail_height = COALESCE(EXCLUDED.thumbnail_height, r.thumbnail_height),
        preview_width = COALESCE(EXCLUDED.preview_width, r.preview_width),
        preview_height = COALESCE(EXCLUDED.preview_height, r.preview_height),
        updated_at = EXCLUDED.updated_at;
    INSERT INTO read.renditions AS r (checksum, state, reason, updated_at)
    SELECT checksum, 'failed', reason, updated_at FROM {STAGING.table} WHERE state = 'failed'
    ORDER BY checksum
    ON CONFLICT (checksum) DO UPDATE SET reason = EXCLUDED.reason,
        updated_at = EXCLUDED.updated_at
    WHERE r.state = 'failed'
"""

Row = list[Any]
"""checksum, state, thumbnail width and height, preview width and height, reason, updated_at"""


def fold(events: Sequence[Event]) -> dict[str, Row]:
    """One row per checksum that does what the batch's events, applied in order, would do.

    A success wins over any failure, before or after it, and its sizes fill in those a later
    success leaves out (as COALESCE does row by row); without a success, the last failure
    stands (and changes the row only if that checksum has not succeeded already).
    """
    rows: dict[str, Row] = {}
    for e in events:
        if e.type != "RenditionsMade":
            continue
        for entry in _once_each(e.data["ready"]):
            sizes = [
                _size(entry, kind, axis) for kind in ("thumbnail", "preview") for axis in (0, 1)
            ]
            row = rows.get(entry["checksum"])
            if row is not None and row[1] == "ready":
                sizes = [
                    new if new is not None else old
                    for new, old in zip(sizes, row[2:6], strict=True)
                ]
            rows[entry["checksum"]] = [entry["checksum"], "ready", *sizes, None, e.occurred_at]
        for entry in _once_each(e.data["failed"]):
            row = rows.get(entry["checksum"])
            if row is None or row[1] == "failed":
                rows[entry["checksum"]] = [
                    entry["checksum"],
                    "failed",
                    None,
                    None,
                    None,
                    None,
                    entry["reason"],
                    e.occurred_at,
                ]
    return rows


class RenditionsProjection(Projection):
    name: ClassVar[str] = "renditions"
    topics: ClassVar[tuple[str, ...]] = (RENDITIONS.topic,)
    tables: ClassVar[tuple[str, ...]] = ("read.renditions",)

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        rows = fold(events)
        if rows:
            await STAGING.load(conn, rows.values())
            await conn.execute(MERGE)

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
