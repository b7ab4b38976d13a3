"""Read table ``read.files``: the file catalogue of every folder, paged by path and name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import asyncpg

from broker.envelope import Event
from broker.topics import FOLDERS
from projections.base import Staging
from projections.folded import FoldedProjection


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


COLUMNS = (
    ("folder_id", "uuid"),
    ("org_id", "uuid"),
    ("file_id", "text"),
    ("name", "text"),
    ("path", "text"),
    ("mime_type", "text"),
    ("size", "bigint"),
    ("width", "int"),
    ("height", "int"),
    ("taken_at", "timestamptz"),
    ("checksum", "text"),
    ("modified_at", "timestamptz"),
)
STAGING = Staging("files_staging", COLUMNS)
_NAMES = ", ".join(name for name, _ in COLUMNS)
MERGE = f"""
    INSERT INTO read.files ({_NAMES}) SELECT {_NAMES} FROM {STAGING.table}
    ORDER BY folder_id, file_id
    ON CONFLICT (folder_id, file_id) DO UPDATE SET
        name = EXCLUDED.name, path = EXCLUDED.path, mime_type = EXCLUDED.mime_type,
        size = EXCLUDED.size, width = EXCLUDED.width, height = EXCLUDED.height,
        taken_at = EXCLUDED.taken_at, checksum = EXCLUDED.checksum,
        modified_at = EXCLUDED.modified_at
"""
REMOVE = """
    DELETE FROM read.files f USING unnest($1::uuid[], $2::text[]) AS u(folder_id, file_id)
    WHERE f.folder_id = u.folder_id AND f.file_id = u.file_id
"""

FileKey = tuple[UUID, str]
Row = tuple[Any, ...]


def _row(e: Event, f: dict[str, Any]) -> Row:
    return (
        e.aggregate_id,
        e.org_id,
        f["file_id"],
        f["name"],
        f["path"],
        f["mime_type"],
        f["size"],
        f["width"],
        f["height"],
        _when(f["taken_at"]),
        f["checksum"],
        _when(f["modified_at"]),
    )


def fold(events: Sequence[Event]) -> dict[FileKey, Row | None]:
    """What the batch leaves of each file it names: its row, or None when removed.

    A discovery writes every column and a removal deletes the row, so the last one of a file
    in the batch decides alone, and one COPY and one merge apply the whole batch.
    """
    changes: dict[FileKey, Row | None] = {}
    for e in events:
        if e.type == "FolderFilesDiscovered":
            for f in e.data["files"]:
                changes[(e.aggregate_id, f["file_id"])] = _row(e, f)
        elif e.type == "FolderFilesRemoved":
            for file_id in e.data["file_ids"]:
                changes[(e.aggregate_id, file_id)] = None
    return changes


class FilesProjection(FoldedProjection[FileKey]):
    """A file's row is whatever its last discovery says: folding needs no stored row."""

    name: ClassVar[str] = "files"
    topics: ClassVar[tuple[str, ...]] = (FOLDERS.topic,)
    tables: ClassVar[tuple[str, ...]] = ("read.files",)
    fold_rows: ClassVar[int] = 50_000  # wide rows: a rebuild holds fewer of them

    def keys(self, event: Event) -> list[FileKey]:
        if event.type == "FolderFilesDiscovered":
            return [(event.aggregate_id, f["file_id"]) for f in event.data["files"]]
        if event.type == "FolderFilesRemoved":
            return [(event.aggregate_id, file_id) for file_id in event.data["file_ids"]]
        return []

    async def load(self, conn: asyncpg.Connection, events: Sequence[Event]) -> dict[FileKey, Row]:
        return {}

    def fold(self, rows: dict[FileKey, Row | None], events: Sequence[Event]) -> set[FileKey]:
        changes = fold(events)
        rows.update(changes)
        return set(changes)

    async def write(
        self, conn: asyncpg.Connection, rows: Mapping[FileKey, Row | None], *, fresh: bool
    ) -> None:
        kept = [row for row in rows.values() if row is not None]
        if fresh:  # nothing of these is stored: removed ones need no delete, the rest no merge
            if kept:
                await conn.copy_records_to_table(
                    "files", records=kept, columns=[c for c, _ in COLUMNS], schema_name="read"
                )
            return
        removed = [key for key, row in rows.items() if row is None]
        if removed:
            await conn.execute(REMOVE, [k[0] for k in removed], [k[1] for k in removed])
        if kept:
            await STAGING.merge(conn, kept, MERGE)

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
