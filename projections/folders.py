"""Read table ``read.folders``: each folder with its file count and its latest sync."""

from __future__ import annotations

from typing import ClassVar

import asyncpg

from broker.topics import FOLDERS
from projections.base import Statement, StatementProjection

FOLDER_STATEMENTS: dict[str, Statement] = {
    "FolderRegistered": (
        "INSERT INTO read.folders (folder_id, org_id, provider, location, name, file_count,"
        " created_at) VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (folder_id) DO NOTHING",
        lambda e: (
            e.aggregate_id,
            e.org_id,
            e.data["provider"],
            e.data["location"],
            e.data["name"],
            e.occurred_at,
        ),
    ),
    "FolderSyncStarted": (
        "UPDATE read.folders SET sync_id = $2, sync_mode = $3, sync_state = 'running',"
        " processed = 0, total = NULL, started_at = $4, finished_at = NULL, error = NULL,"
        " requested_mode = $5 WHERE folder_id = $1",
        lambda e: (
            e.aggregate_id,
            e.data["sync_id"],
            e.data["mode"],
            e.occurred_at,
            e.data.get("requested_mode", e.data["mode"]),
        ),
    ),
    "FolderFilesDiscovered": (
        "UPDATE read.folders SET file_count = file_count + $2 WHERE folder_id = $1",
        lambda e: (e.aggregate_id, e.data["added"]),
    ),
    "FolderFilesRemoved": (
        "UPDATE read.folders SET file_count = file_count - $2 WHERE folder_id = $1",
        lambda e: (e.aggregate_id, len(e.data["file_ids"])),
    ),
    "FolderSyncProgressed": (
        "UPDATE read.folders SET processed = $2, total = $3 WHERE folder_id = $1",
        lambda e: (e.aggregate_id, e.data["processed"], e.data["total"]),
    ),
    "FolderSyncCompleted": (
        "UPDATE read.folders SET sync_state = 'completed', finished_at = $2, file_count = $3,"
        " total = COALESCE(total, $3), processed = COALESCE(total, $3) WHERE folder_id = $1",
        lambda e: (e.aggregate_id, e.occurred_at, e.data["total"]),
    ),
    "FolderSyncFailed": (
        "UPDATE read.folders SET sync_state = 'failed', finished_at = $2, error = $3"
        " WHERE folder_id = $1",
        lambda e: (e.aggregate_id, e.occurred_at, e.data["reason"]),
    ),
}


class FoldersProjection(StatementProjection):
    name: ClassVar[str] = "folders"
    topics: ClassVar[tuple[str, ...]] = (FOLDERS.topic,)
    tables: ClassVar[tuple[str, ...]] = ("read.folders",)
    schema_version: ClassVar[int] = 2  # 2: requested_mode
    statements: ClassVar[dict[str, Statement]] = FOLDER_STATEMENTS

    async def create_tables(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            """
            CREATE SCHEMA IF NOT EXISTS read;
            CREATE TABLE IF NOT EXISTS read.folders (
                folder_id uuid PRIMARY KEY,
                org_id uuid NOT NULL,
                provider text NOT NULL,
                location text NOT NULL,
                name text NOT NULL,
                file_count bigint NOT NULL,
                created_at timestamptz NOT NULL,
                sync_id uuid,
                sync_mode text,
                requested_mode text,
                sync_state text,
                processed bigint,
                total bigint,
                started_at timestamptz,
                finished_at timestamptz,
                error text
            );
            CREATE INDEX IF NOT EXISTS folders_org_idx ON read.folders (org_id, created_at);
            CREATE INDEX IF NOT EXISTS folders_running_idx ON read.folders (sync_state)
                WHERE sync_state = 'running';
            """
        )
