"""A sync's progress as a progress bar reads it, and incremental syncs of local folders.

The Storage application runs in memory; the sources are a slow fake listing and the real local
provider on a temporary directory.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from commands.folder_sync import FolderSync
from commands.storage import StorageApplication
from domains.files import Changes, FileInfo
from domains.folder import Folder
from infra.cloud.local import LocalProvider
from infra.demo_photos import generate

pytestmark = pytest.mark.unit


def info(number: int) -> FileInfo:
    return FileInfo(
        file_id=f"f{number:05d}",
        name=f"f{number:05d}.jpg",
        path="",
        mime_type="image/jpeg",
        size=10,
        checksum=f"c{number}",
        modified_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


class SlowListing:
    """A provider whose pages come ``pause`` seconds apart and which counts up front."""

    kind = "local"

    def __init__(self, files: int, page: int, pause: float) -> None:
        self.files, self.page, self.pause = files, page, pause

    async def pages(self, location: str) -> AsyncIterator[list[FileInfo]]:
        for start in range(0, self.files, self.page):
            await asyncio.sleep(self.pause)
            yield [info(n) for n in range(start, min(start + self.page, self.files))]

    async def count(self, location: str) -> int:
        return self.files

    async def start_cursor(self, location: str) -> str | None:
        return None

    def changes(self, location: str, cursor: str) -> AsyncIterator[Changes]:
        raise NotImplementedError


def events_of(app: StorageApplication, folder_id: UUID) -> list[Any]:
    return list(app.events.get(folder_id))


def started(app: StorageApplication, provider: str, location: str, mode: str) -> UUID:
    folder = Folder.register(uuid4(), provider, location, "Shoot", uuid4())
    folder.start_sync(uuid4(), mode, "test")
    app.save(folder)
    return folder.id


def restart(app: StorageApplication, folder_id: UUID, mode: str) -> None:
    folder: Folder = app.repository.get(folder_id)
    folder.start_sync(uuid4(), mode, "test")
    app.save(folder)


async def test_progress_moves_with_the_total_known_while_the_sync_runs() -> None:
    app = StorageApplication()
    folder_id = started(app, "local", "/photos", "full")
    source = SlowListing(files=1200, page=50, pause=0.03)  # about 0.7 s of listing

    async def source_for(folder: Folder) -> SlowListing:
        return source

    assert await FolderSync(app, source_for, batch_size=500).run(folder_id)
    progress = [e for e in events_of(app, folder_id) if isinstance(e, Folder.SyncProgressed)]
    processed = [e.processed for e in progress]
    assert processed == sorted(processed) and processed[-1] == 1200
    assert len(progress) >= 3, "a sync of under a second still shows movement"
    assert progress[0].processed < 1200, "the first files show at once"
    assert any(e.total == 1200 and e.processed < 1200 for e in progress)
    assert len(progress) <= 1 + 0.7 / 0.2 + 2, "never more than a few a second"
    completed = events_of(app, folder_id)[-1]
    assert isinstance(completed, Folder.SyncCompleted) and completed.total == 1200


async def test_an_incremental_local_sync_records_only_what_changed(tmp_path: Path) -> None:
    root = tmp_path / "shoot"
    photos = generate(root, count=6)
    app = StorageApplication()
    provider = LocalProvider([tmp_path])

    async def source_for(folder: Folder) -> LocalProvider:
        return provider

    sync = FolderSync(app, source_for, batch_size=100)
    folder_id = started(app, "local", str(root), "incremental")
    first: Any = events_of(app, folder_id)[-1]
    assert (first.mode, first.requested_mode) == ("full", "incremental"), (
        "nothing to compare with yet: a full sync ran, and the event says so"
    )
    assert await sync.run(folder_id)

    os.utime(photos[1], (1_900_000_000, 1_900_000_000))  # touched: a new modification time
    photos[2].unlink()
    before = len(events_of(app, folder_id))
    restart(app, folder_id, "incremental")
    assert await sync.run(folder_id)
    second = events_of(app, folder_id)[before:]
    assert (second[0].mode, second[0].requested_mode) == ("incremental", "incremental")
    discovered = [
        f["file_id"] for e in second if isinstance(e, Folder.FilesDiscovered) for f in e.files
    ]
    removed = [f for e in second if isinstance(e, Folder.FilesRemoved) for f in e.file_ids]
    assert discovered == [str(photos[1].relative_to(root))]
    assert removed == [str(photos[2].relative_to(root))]
    changed = next(e for e in second if isinstance(e, Folder.FilesDiscovered)).files[0]
    assert changed["width"] is not None, "a changed file's header is read again"
    folder: Folder = app.repository.get(folder_id)
    assert len(folder.catalogue) == 5 and not folder.syncing


async def test_a_full_sync_of_a_folder_synced_before_says_full() -> None:
    app = StorageApplication()
    folder_id = started(app, "google_drive", "drive-folder", "incremental")
    event: Any = events_of(app, folder_id)[-1]
    assert (event.mode, event.requested_mode) == ("full", "incremental")


async def test_an_incremental_s3_sync_compares_the_listing_with_the_catalogue() -> None:
    app = StorageApplication()
    listing = SlowListing(files=30, page=10, pause=0)
    listing.kind = "s3"

    async def source_for(folder: Folder) -> SlowListing:
        return listing

    sync = FolderSync(app, source_for, batch_size=100)
    folder_id = started(app, "s3", "s3://bucket/shoot", "full")
    assert await sync.run(folder_id)
    listing.files = 32  # two new objects
    before = len(events_of(app, folder_id))
    restart(app, folder_id, "incremental")
    assert await sync.run(folder_id)
    second = events_of(app, folder_id)[before:]
    assert second[0].mode == "incremental"
    discovered = [
        f["file_id"] for e in second if isinstance(e, Folder.FilesDiscovered) for f in e.files
    ]
    assert discovered == ["f00030", "f00031"]
    assert isinstance(second[-1], Folder.SyncCompleted) and second[-1].added == 2
