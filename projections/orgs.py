"""Read table ``read.orgs``: one row per studio, as the query API returns it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, ClassVar

import asyncpg
import orjson

from broker.envelope import Event
from broker.topics import ORGS
from projections.base import Staging
from projections.folded import FoldedProjection

Row = dict[str, Any]


def _created(row: Row | None, event: Event) -> Row:
    return {
        "org_id": event.aggregate_id,
        "name": event.data["name"],
        "created_by": event.actor,
        "created_at": event.occurred_at,
        "watermark": None,
    }


def _renamed(row: Row | None, event: Event) -> Row:
    assert row is not None, (
        f"OrganizationRenamed before OrganizationCreated for {event.aggregate_id}"
    )
    return {**row, "name": event.data["name"]}


def _watermark_set(row: Row | None, event: Event) -> Row:
    assert row is not None, f"a watermark before OrganizationCreated for {event.aggregate_id}"
    return {**row, "watermark": orjson.dumps(event.data["watermark"]).decode()}


def _watermark_removed(row: Row | None, event: Event) -> Row:
    assert row is not None, f"a watermark before OrganizationCreated for {event.aggregate_id}"
    return {**row, "watermark": None}


HANDLERS: dict[str, Callable[[Row | None, Event], Row]] = {
    "OrganizationCreated": _created,
    "OrganizationRenamed": _renamed,
    "OrganizationWatermarkSet": _watermark_set,
    "OrganizationWatermarkRemoved": _watermark_removed,
}

COLUMNS = ("org_id", "name", "created_by", "created_at", "updated_at", "version", "watermark")
STAGING = Staging(
    "orgs_staging",
    (
        ("org_id", "uuid"),
        ("name", "text"),
        ("created_by", "text"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
        ("version", "bigint"),
        ("watermark", "jsonb"),
    ),
)
_ROW = itemgetter(*COLUMNS)
MERGE = f"""
    INSERT INTO read.orgs ({", ".join(COLUMNS)})
    SELECT {", ".join(COLUMNS)} FROM {STAGING.table} ORDER BY org_id
    ON CONFLICT (org_id) DO UPDATE SET
        name = EXCLUDED.name, updated_at = EXCLUDED.updated_at,
        version = EXCLUDED.version, watermark = EXCLUDED.watermark
    WHERE read.orgs.version < EXCLUDED.version
"""


class OrgsProjection(FoldedProjection[int]):
    name: ClassVar[str] = "orgs"
    topics: ClassVar[tuple[str, ...]] = (ORGS.topic,)
    tables: ClassVar[tuple[str, ...]] = ("read.orgs",)
    schema_version: ClassVar[int] = 2  # 2: watermark

    async def create_tables(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            """
            CREATE SCHEMA IF NOT EXISTS read;
            CREATE TABLE IF NOT EXISTS read.orgs (
                org_id uuid PRIMARY KEY,
                name text NOT NULL,
                created_by text,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                version bigint NOT NULL,
                watermark jsonb
            );
            CREATE INDEX IF NOT EXISTS orgs_created_idx ON read.orgs (created_at, org_id);
            """
        )

    def keys(self, event: Event) -> tuple[int]:
        # Keyed by UUID.int: hashing an int is done in C, a UUID's in Python.
        return (event.aggregate_id.int,)

    async def load(self, conn: asyncpg.Connection, events: Sequence[Event]) -> dict[int, Row]:
        first: dict[int, Event] = {}
        for event in events:
            first.setdefault(event.aggregate_id.int, event)
        # An org whose first event here is its very first (version 1) has no row yet: a batch
        # of new studios, the usual one, needs no read.
        ids = [e.aggregate_id for e in first.values() if e.version > 1]
        if not ids:
            return {}
        return {
            r["org_id"].int: dict(r)
            for r in await conn.fetch(
                # one lookup by the key per org (see projections.positions.VERSION_OF_ID)
                f"SELECT {', '.join('o.' + c for c in COLUMNS[:-1])}, o.watermark::text"
                " FROM unnest($1::uuid[]) AS u(id) CROSS JOIN LATERAL"
                " (SELECT * FROM read.orgs WHERE org_id = u.id LIMIT 1) o",
                ids,
            )
        }

    def fold(self, rows: dict[int, Row], events: Sequence[Event]) -> set[int]:
        changed: set[int] = set()
        for event in events:
            key = event.aggregate_id.int
            handler = HANDLERS.get(event.type)
            row = rows.get(key)
            if handler is not None:
                row = handler(row, event)
            if row is None:
                continue
            row["updated_at"] = event.occurred_at
            row["version"] = event.version
            rows[key] = row
            changed.add(key)
        return changed

    async def write(
        self, conn: asyncpg.Connection, rows: Mapping[int, Row | None], *, fresh: bool
    ) -> None:
        values = [_ROW(row) for row in rows.values() if row is not None]
        if not values:
            return
        if fresh:
            await conn.copy_records_to_table(
                "orgs", records=values, columns=COLUMNS, schema_name="read"
            )
            return
        await STAGING.merge(conn, values, MERGE)
