"""Read table ``read.files``: the file catalogue of every folder, paged by path and name."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import asyncpg

from broker.envelope import Envelope
from broker.topics import FOLDERS
from projections.base import Statement, StatementProjection


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _discovered(e: Envelope) -> tuple[Any, ...]:
    files = e.data["files"]
    return (
        e.aggregate_id,
        e.org_id,
        [f["file_id"] for f in files],
        [f["name"] for f in files],
        [f["path"] for f in files],
        [f["mime_type"] for f in files],
        [f["size"] for f in files],
        [f["width"] for f in files],
        [f["height"] for f in files],
        [_when(f["taken_at"]) for f in files],
        [f["checksum"] for f in files],
        [_when(f["modified_at"]) for f in files],
    )


FILE_STATEMENTS: dict[str, Statement] = {
    "FolderFilesDiscovered": (
        """
        INSERT INTO read.files (folder_id, org_id, file_id, name, path, mime_type, size, width,
                                height, taken_at, checksum, modified_at)
        SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[],
                                     $7::bigint[], $8::int[], $9::int[], $10::timestamptz[],
                                     $11::text[], $12::timestamptz[])
        ON CONFLICT (folder_id, file_id) DO UPDATE SET
            name = EXCLUDED.name, path = EXCLUDED.path, mime_type = EXCLUDED.mime_type,
            size = EXCLUDED.size, width = EXCLUDED.width, height = EXCLUDED.height,
            taken_at = EXCLUDED.taken_at, checksum = EXCLUDED.checksum,
            modified_at = EXCLUDED.modified_at
        """,
        _discovered,
    ),
    "FolderFilesRemoved": (
        "DELETE FROM read.files WHERE folder_id = $1 AND file_id = ANY($2::text[])",
        lambda e: (e.aggregate_id, e.data["file_ids"]),
    ),
}


class FilesProjection(StatementProjection):
    name: ClassVar[str] = "files"
    topics: ClassVar[tuple[str, ...]] = (FOLDERS.topic,)
    tables: ClassVar[tuple[str, ...]] = ("read.files",)
    statements: ClassVar[dict[str, Statement]] = FILE_STATEMENTS

    async def create_tables(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            """
            CREATE SCHEMA IF NOT EXISTS read;
            CREATE TABLE IF NOT EXISTS read.files (
                folder_id uuid NOT NULL,
                org_id uuid NOT NULL,
                file_id text NOT NULL,
                name text NOT NULL,
                path text NOT NULL,
                mime_type text NOT NULL,
                size bigint NOT NULL,
                width int,
                height int,
                taken_at timestamptz,
                checksum text NOT NULL,
                modified_at timestamptz NOT NULL,
                PRIMARY KEY (folder_id, file_id)
            );
            CREATE INDEX IF NOT EXISTS files_page_idx
                ON read.files (folder_id, path, name, file_id);
            """
        )
