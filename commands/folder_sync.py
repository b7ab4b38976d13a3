"""Running one folder's sync: list the provider, record what changed, in batches.

One runner owns a folder's sync at a time (the worker holds a lock per folder), so it keeps the
Folder aggregate in memory for the whole sync instead of reloading it per batch. A crash leaves
the sync marked running; the next runner lists again from the start, and because the aggregate
compares fingerprints, files recorded before the crash are neither recorded twice nor lost.

Progress is what a progress bar needs: ``processed`` counts the files listed so far and
``total`` is known as soon as the provider can tell (a local folder counts its names first, in
parallel with the listing; Drive and S3 pages only give running counts, so their total comes at
the end). It is recorded at the first page, after every batch (``progress_files``), and at least
every ``progress_seconds`` while files keep coming, but never more often than every
``progress_min_seconds``; the relay publishes it as StorageFolderSyncProgress. The completion
is recorded after the last batch of files, so it can never overtake them.

An incremental sync continues a change feed's cursor (Drive); for a provider without one
(local, S3) it compares the listing with the catalogue, and the local provider skips reading
the header of every file whose path, size and modification time are unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol, runtime_checkable
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


@runtime_checkable
class CountingSource(Protocol):
    """A provider that can tell how many files its listing will give, cheaply, up front."""

    async def count(self, location: str) -> int: ...


Unchanged = Callable[[str, str, str, str], bool]


@runtime_checkable
class ComparingSource(Protocol):
    """A provider that lists unchanged files without reading them again."""

    def changed_pages(
        self, location: str, unchanged: Unchanged | None
    ) -> AsyncIterator[list[FileInfo]]: ...


SourceFor = Callable[[Folder], Awaitable[FileSource]]


class FolderSync:
    def __init__(
        self,
        app: Application[UUID],
        source_for: SourceFor,
        batch_size: int = 1000,
        progress_files: int | None = None,
        progress_seconds: float = 0.5,
        progress_min_seconds: float = 0.2,
    ) -> None:
        self._app = app
        self._source_for = source_for
        self._batch_size = batch_size
        self._progress_files = progress_files or batch_size
        self._progress_seconds = progress_seconds
        self._progress_min_seconds = progress_min_seconds

    def _progress(self) -> _Progress:
        return _Progress(self._progress_files, self._progress_seconds, self._progress_min_seconds)

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
        counting = (
            asyncio.create_task(source.count(folder.location))
            if isinstance(source, CountingSource)
            else None
        )
        try:
            seen = await self._list(folder, source, counting)
        finally:
            if counting is not None:
                if counting.done():
                    counting.exception()  # a failed count is the listing's to report
                else:
                    counting.cancel()
        gone = [file_id for file_id in folder.catalogue if file_id not in seen]
        for start in range(0, len(gone), self._batch_size):
            folder.record_removed(gone[start : start + self._batch_size])
            await self._save(folder)
        folder.record_progress(len(seen), len(seen))
        return cursor

    async def _list(
        self, folder: Folder, source: FileSource, counting: asyncio.Task[int] | None
    ) -> set[str]:
        """Record every listed file in batches, with progress; the ids seen."""
        if folder.sync_mode == "incremental" and isinstance(source, ComparingSource):
            pages = source.changed_pages(folder.location, folder.unchanged)
        else:
            pages = source.pages(folder.location)
        seen: set[str] = set()
        pending: list[FileInfo] = []
        progress = self._progress()
        batched = 0
        async for page in pages:
            seen.update(f.file_id for f in page)
            pending += page
            recorded = False
            while len(pending) >= self._batch_size:
                recorded = bool(folder.record_files(pending[: self._batch_size])) or recorded
                pending = pending[self._batch_size :]
                batched += self._batch_size
                if progress.due(batched):  # a page of many batches shows each of them
                    folder.record_progress(batched, _total(counting, len(seen)))
                    recorded = True
            if progress.due(len(seen)):
                folder.record_progress(len(seen), _total(counting, len(seen)))
                recorded = True
            if recorded:
                await self._save(folder)
        if pending:
            folder.record_files(pending)
            await self._save(folder)
        return seen

    async def _incremental(self, folder: Folder, source: FileSource, cursor: str) -> str | None:
        processed = 0
        progress = self._progress()
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


def _total(counting: asyncio.Task[int] | None, seen: int) -> int | None:
    """The count, once known (never below what was already seen: files may appear)."""
    if counting is None or not counting.done() or counting.cancelled():
        return None
    if counting.exception() is not None:
        return None  # the listing itself reports what it cannot read
    return max(counting.result(), seen)


class _Progress:
    """Due at the first files, then every so many files or seconds, whichever comes first,
    but never twice within ``min_seconds``: a fast sync shows movement without flooding."""

    def __init__(self, every_files: int, every_seconds: float, min_seconds: float) -> None:
        self._every_files = every_files
        self._every_seconds = every_seconds
        self._min_seconds = min_seconds
        self._last_count = 0
        self._last_time: float | None = None

    def due(self, count: int) -> bool:
        now = time.monotonic()
        last = self._last_time
        if last is None or (
            now - last >= self._min_seconds
            and (count - self._last_count >= self._every_files or now - last >= self._every_seconds)
        ):
            self._last_count, self._last_time = count, now
            return True
        return False
