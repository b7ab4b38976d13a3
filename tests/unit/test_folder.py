"""The Folder aggregate: syncs one at a time, files recorded in batches by fingerprint."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domains.errors import InvalidValue, RuleBroken
from domains.files import FileInfo
from domains.folder import Folder, SyncRunning

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def photo(file_id: str, checksum: str = "c1", name: str | None = None, path: str = "") -> FileInfo:
    return FileInfo(file_id, name or f"{file_id}.jpg", path, "image/jpeg", 100, checksum, NOW)


def folder() -> Folder:
    return Folder.register(uuid4(), "local", "/photos/wedding", "Wedding", uuid4())


def test_a_second_sync_joins_the_running_one() -> None:
    f = folder()
    first = uuid4()
    f.start_sync(first, "full", "me")
    with pytest.raises(SyncRunning) as running:
        f.start_sync(uuid4(), "full", "me")
    assert running.value.sync_id == first
    with pytest.raises(InvalidValue):
        folder().start_sync(uuid4(), "sideways", "me")


def test_only_new_and_changed_files_are_recorded_and_counted() -> None:
    f = folder()
    f.start_sync(uuid4(), "full", "me")
    assert f.record_files([photo("a"), photo("b")]) == 2
    f.complete_sync(cursor=None)
    f.start_sync(uuid4(), "full", "me")
    assert f.record_files([photo("a"), photo("b", checksum="c2"), photo("c")]) == 2
    assert f.record_files([photo("a", path="moved")]) == 1  # a move is a change
    f.record_removed(["c", "unknown"])
    f.complete_sync(cursor="next")
    completed = f.collect_events()[-1]
    assert isinstance(completed, Folder.SyncCompleted)
    assert (completed.added, completed.changed, completed.removed, completed.total) == (1, 2, 1, 2)
    assert (f.syncing, f.cursor) == (False, "next")


def test_nothing_is_recorded_outside_a_sync() -> None:
    f = folder()
    with pytest.raises(RuleBroken):
        f.record_files([photo("a")])
    with pytest.raises(RuleBroken):
        f.complete_sync(cursor=None)


def test_an_incremental_sync_without_a_cursor_lists_everything() -> None:
    f = folder()
    f.start_sync(uuid4(), "incremental", "me")
    assert f.sync_mode == "full"
    with pytest.raises(InvalidValue):
        Folder.register(uuid4(), "ftp", "x", "Y", uuid4())
