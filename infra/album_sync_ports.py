"""The read-table queries the album process manager needs from Storage and Photoflow."""

from __future__ import annotations

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
        return [(r["album_id"], r["folder_id"]) for r in rows]

    async def files(self, folder_id: UUID) -> list[tuple[str, str]]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT file_id, name FROM read.files WHERE folder_id = $1", folder_id
            )
        return [(r["file_id"], r["name"]) for r in rows]
