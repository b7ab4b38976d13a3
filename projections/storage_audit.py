"""Read table ``read.storage_audit``: every storage action, who did it and what it changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import asyncpg
import orjson

from broker.envelope import Event
from broker.topics import FOLDERS
from projections.base import SET_BASED_FROM, Staging, Statement, StatementProjection

INSERT = (
    "INSERT INTO read.storage_audit (event_id, org_id, folder_id, action, actor, occurred_at,"
    " details) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (event_id) DO NOTHING"
)


def _row(action: str, details: dict[str, Any]) -> Statement:
    def arguments(e: Event) -> tuple[Any, ...]:
        detail = {k: e.data[v] if isinstance(v, str) else v(e) for k, v in details.items()}
        return (
            e.id,
            e.org_id,
            e.aggregate_id,
            action,
            e.actor,
            e.occurred_at,
            orjson.dumps(detail).decode(),
        )

    return INSERT, arguments


AUDIT_STATEMENTS: dict[str, Statement] = {
    "FolderRegistered": _row(
        "registered", {"provider": "provider", "location": "location", "name": "name"}
    ),
    "FolderSyncStarted": _row("sync started", {"sync_id": "sync_id", "mode": "mode"}),
    "FolderFilesDiscovered": _row(
        "files recorded", {"sync_id": "sync_id", "added": "added", "changed": "changed"}
    ),
    "FolderFilesRemoved": _row(
        "files removed", {"sync_id": "sync_id", "removed": lambda e: len(e.data["file_ids"])}
    ),
    "FolderSyncCompleted": _row(
        "sync completed",
        {
            "sync_id": "sync_id",
            "added": "added",
            "changed": "changed",
            "removed": "removed",
            "total": "total",
        },
    ),
    "FolderSyncFailed": _row("sync failed", {"sync_id": "sync_id", "reason": "reason"}),
}


STAGING = Staging(
    "storage_audit_staging",
    (
        ("event_id", "uuid"),
        ("org_id", "uuid"),
        ("folder_id", "uuid"),
        ("action", "text"),
        ("actor", "text"),
        ("occurred_at", "timestamptz"),
        ("details", "jsonb"),
    ),
)
MERGE = f"""
    INSERT INTO read.storage_audit (event_id, org_id, folder_id, action, actor, occurred_at,
        details)
    SELECT * FROM {STAGING.table} ORDER BY event_id ON CONFLICT (event_id) DO NOTHING
"""


class StorageAuditProjection(StatementProjection):
    name: ClassVar[str] = "storage_audit"
    topics: ClassVar[tuple[str, ...]] = (FOLDERS.topic,)
    tables: ClassVar[tuple[str, ...]] = ("read.storage_audit",)
    statements: ClassVar[dict[str, Statement]] = AUDIT_STATEMENTS

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        """Each event is a row of its own: many go in with one COPY merge."""
        if len(events) < SET_BASED_FROM:
            return await super().apply(conn, events)
        rows = [AUDIT_STATEMENTS[e.type][1](e) for e in events if e.type in AUDIT_STATEMENTS]
        if rows:
            await STAGING.load(conn, rows)
            await conn.execute(MERGE)

    async def create_tables(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            """
            CREATE SCHEMA IF NOT EXISTS read;
            CREATE TABLE IF NOT EXISTS read.storage_audit (
                event_id uuid PRIMARY KEY,
                org_id uuid NOT NULL,
                folder_id uuid NOT NULL,
                action text NOT NULL,
                actor text,
                occurred_at timestamptz NOT NULL,
                details jsonb NOT NULL
            );
            CREATE INDEX IF NOT EXISTS storage_audit_folder_idx
                ON read.storage_audit (folder_id, occurred_at, event_id);
            """
        )
