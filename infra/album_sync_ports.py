"""Read-table queries for Photoflow's workers: the album process manager and the Sender."""

from __future__ import annotations

import asyncio
from datetime import datetime
from uuid import UUID

import asyncpg

READY = """
SELECT a.album_id, a.folder_id
FROM read.albums a
JOIN read.folders f ON f.folder_id = a.folder_id
JOIN read.projection_versions fv ON fv.projection = 'folders' AND fv.aggregate_id = f.folder_id
JOIN read.projection_versions cv ON cv.projection = 'files' AND cv.aggregate_id = f.folder_id
WHERE a.status = 'syncing' AND f.sync_state = 'completed'
  AND f.finished_at >= a.updated_at AND cv.version >= fv.version
"""


class AlbumSyncReads:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ready(self) -> list[tuple[UUID, UUID]]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(READY)
        return [(UUID(str(r["album_id"])), UUID(str(r["folder_id"]))) for r in rows]

    async def files(self, folder_id: UUID) -> list[tuple[str, str]]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT file_id, name FROM read.files WHERE folder_id = $1", folder_id
            )
        return [(r["file_id"], r["name"]) for r in rows]


class AlbumMailFacts:
    """What the Sender needs to write about an album, once the read tables include the event."""

    def __init__(self, pool: asyncpg.Pool, wait_seconds: float = 5.0) -> None:
        self._pool = pool
        self._wait = wait_seconds

    async def lookup(self, album_id: UUID, version: int) -> dict[str, object] | None:
        deadline = asyncio.get_running_loop().time() + self._wait
        async with self._pool.acquire() as conn:
            while True:
                row = await conn.fetchrow(
                    "SELECT a.title, a.client_name, a.client_email, a.selection_count,"
                    " a.share_nonce, a.version, u.email AS photographer_email"
                    " FROM read.albums a LEFT JOIN read.users u ON u.user_id::text = a.created_by"
                    " WHERE a.album_id = $1",
                    album_id,
                )
                if row is not None and row["version"] >= version:
                    return dict(row)
                if asyncio.get_running_loop().time() > deadline:
                    return dict(row) if row is not None else None
                await asyncio.sleep(0.05)


class DigestReads:
    """The client comments an album received in a period, from the Photoflow read tables."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def albums_with_comments(self, start: datetime, end: datetime) -> list[tuple[UUID, UUID]]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT DISTINCT c.album_id, a.org_id FROM read.album_comments c "
                "JOIN read.albums a USING (album_id) WHERE c.created_at >= $1 "
                "AND c.created_at < $2 AND c.author LIKE 'client:%'",
                start,
                end,
            )
        return [(UUID(str(r["album_id"])), UUID(str(r["org_id"]))) for r in rows]

    async def comments(
        self, album_id: UUID, start: datetime, end: datetime
    ) -> list[dict[str, object]]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT c.author, c.text, p.name FROM read.album_comments c "
                "LEFT JOIN read.album_photos p USING (photo_id) WHERE c.album_id = $1 "
                "AND c.created_at >= $2 AND c.created_at < $3 AND c.author LIKE 'client:%' "
                "ORDER BY c.created_at",
                album_id,
                start,
                end,
            )
        return [dict(r) for r in rows]
