"""Running one folder's sync: list the provider, record what changed, in batches.

One runner owns a folder's sync at a time (the worker holds a lock per folder), so it keeps the
Folder aggregate in memory for the whole sync instead of reloading it per batch. A crash leaves
the sync marked running; the next runner lists again from the start, and because the aggregate
compares fingerprints, files recorded before the crash are neither recorded twice nor lost.

Progress is recorded every ``progress_files`` files or ``progress_seconds`` seconds, and the
relay publishes it as StorageFolderSyncProgress; the completion is recorded after the last
batch of files, so it can never overtake them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import RecordConflictError

from domains.files import Changes, FileInfo
from domains.folder import Folder

log = logging.getLogger(__name__)


class FileSource(Protocol):
    """A provider's listing of one location (see ``infra.cloud``)."""

    kind: str

    def pages(self, location: str) -> AsyncIterator[list[FileInfo]]: ...

    async def start_cursor(self, location: str) -> str | None: ...

    def changes(self, location: str, cursor: str) -> AsyncIterator[Changes]: ...


SourceFor = Callable[[Folder], Awaitable[FileSource]]


class FolderSync:
    def __init__(
        self,
        app: Application[UUID],
        source_for: SourceFor,
        batch_size: int = 1000,
        progress_files: int = 5000,
        progress_seconds: float = 1.0,
    ) -> None:
        self._app = app
        self._source_for = source_for
        self._batch_size = batch_size
        self._progress_files = progress_files
        self._progress_seconds = progress_seconds

    async def run(self, folder_id: UUID) -> bool:
        """Carry the folder's running sync to its end; False if none was running."""
        for _ in range(5):
            folder: Folder = await asyncio.to_thread(self._app.repository.get, folder_id)
            if not folder.syncing:
                return False
            try:
                await self._sync(folder)
                return True
            except RecordConflictError:
                log.info("folder %s changed under its sync; listing again", folder_id)
        raise RuntimeError(f"folder {folder_id} kept changing during its sync")

    async def _sync(self, folder: Folder) -> None:
        try:
            source = await self._source_for(folder)
            if folder.sync_mode == "incremental" and folder.cursor is not None:
                cursor = await self._incremental(folder, source, folder.cursor)
            else:
                cursor = await self._full(folder, source)
        except RecordConflictError:
            raise
        except Exception as error:  # the provider failed: the sync fails with the reason
            log.warning("sync of folder %s failed: %s", folder.id, error)
            folder = await asyncio.to_thread(self._app.repository.get, folder.id)
            folder.fail_sync(f"{type(error).__name__}: {error}")
            await self._save(folder)
            return
        folder.complete_sync(cursor)
        await self._save(folder)

    async def _full(self, folder: Folder, source: FileSource) -> str | None:
        # Take the change cursor first, so changes made during the listing are not missed.
        cursor = await source.start_cursor(folder.location)
        seen: set[str] = set()
        progress = _Progress(self._progress_files, self._progress_seconds)
        async for page in source.pages(folder.location):
            for start in range(0, len(page), self._batch_size):
                batch = page[start : start + self._batch_size]
                seen.update(f.file_id for f in batch)
                folder.record_files(batch)
                if progress.due(len(seen)):
                    folder.record_progress(len(seen), None)
                await self._save(folder)
        gone = [file_id for file_id in folder.catalogue if file_id not in seen]
        for start in range(0, len(gone), self._batch_size):
            folder.record_removed(gone[start : start + self._batch_size])
            await self._save(folder)
        folder.record_progress(len(seen), len(seen))
        return cursor

    async def _incremental(self, folder: Folder, source: FileSource, cursor: str) -> str | None:
        processed = 0
        progress = _Progress(self._progress_files, self._progress_seconds)
        next_cursor: str | None = cursor
        async for page in source.changes(folder.location, cursor):
            folder.record_files(list(page.changed))
            folder.record_removed(list(page.removed))
            processed += len(page.changed) + len(page.removed)
            if progress.due(processed):
                folder.record_progress(processed, None)
            await self._save(folder)
            if page.next_cursor is not None:
                next_cursor = page.next_cursor
        folder.record_progress(processed, processed)
        return next_cursor

    async def _save(self, folder: Folder) -> None:
        await asyncio.to_thread(self._app.save, folder)


class _Progress:
    """Due every so many files or seconds, whichever comes first."""

    def __init__(self, every_files: int, every_seconds: float) -> None:
        self._every_files = every_files
        self._every_seconds = every_seconds
        self._last_count = 0
        self._last_time = time.monotonic()

    def due(self, count: int) -> bool:
        now = time.monotonic()
        if count - self._last_count >= self._every_files or now - self._last_time >= (
            self._every_seconds
        ):
            self._last_count, self._last_time = count, now
            return True
        return False
