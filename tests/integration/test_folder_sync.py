"""Folder syncs on the real event store, Kafka and read tables, with the local provider."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path
from uuid import UUID

import asyncpg

from commands.folder_sync import FolderSync
from domains.folder import Folder
from infra.bootstrap import Platform
from infra.cloud.local import LocalProvider
from infra.demo_photos import generate
from tests.support.folders import catalogue_rows, register_and_start, write_photo
from tests.support.kafka import read_topic
from tests.support.relaying import publish_everything
from tests.support.waiting import eventually
from tests.support.world import World


def local_sync(platform: Platform, root: Path, batch_size: int = 1000) -> FolderSync:
    async def source(folder: Folder) -> LocalProvider:
        return LocalProvider([root])

    return FolderSync(
        platform.apps["folders"],
        source,
        batch_size=batch_size,
        progress_files=5,
        progress_seconds=60,
        progress_min_seconds=0,
    )


def expected(root: Path) -> dict[str, tuple[str, str]]:
    """Every image below the root: file id -> (folder path, name)."""
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and path.suffix.lower() in {".jpg", ".jpeg", ".png"}:
            relative = path.relative_to(root)
            parent = "" if str(relative.parent) == "." else str(relative.parent)
            found[str(relative)] = (parent, path.name)
    return found


async def test_a_full_sync_records_every_photo_once_with_its_metadata(
    world: World, platform: Platform, tmp_path: Path
) -> None:
    root = tmp_path / "shoot"
    generate(root / "ceremony", count=7)
    generate(root / "party" / "late", count=5, seed=3)
    write_photo(root, "notes.txt", b"not a photo")
    folder_id = await register_and_start(platform, "local", str(root))
    assert await local_sync(platform, root, batch_size=4).run(folder_id)

    rows = await catalogue_rows(platform, folder_id)
    assert {fid: (r["path"], r["name"]) for fid, r in rows.items()} == expected(root)
    for row in rows.values():
        assert row["width"] in (320, 213) and row["height"] in (320, 213)
        assert row["taken_at"] is not None and row["size"] > 0
    folder: Folder = platform.apps["folders"].repository.get(folder_id)
    assert len(folder.catalogue) == 12 and not folder.syncing


async def test_a_resync_after_changes_equals_a_fresh_full_sync(
    world: World, platform: Platform, tmp_path: Path
) -> None:
    root = tmp_path / "shoot"
    generate(root, count=10)
    folder_id = await register_and_start(platform, "local", str(root))
    sync = local_sync(platform, root, batch_size=3)
    assert await sync.run(folder_id)

    (root / "demo-001.jpg").unlink()  # deleted
    os.rename(root / "demo-002.jpg", root / "renamed.jpg")  # renamed
    (root / "moved").mkdir()
    os.rename(root / "demo-004.jpg", root / "moved" / "demo-004.jpg")  # moved
    shutil.copy(root / "demo-007.jpg", root / "demo-005.jpg")  # changed content
    os.utime(root / "demo-005.jpg", ns=(1, 1_700_000_000_000_000_000))
    generate(root / "added", count=2, seed=11)  # added
    await register_and_start(platform, "local", str(root), "incremental", folder_id)
    assert await sync.run(folder_id)

    fresh_id = await register_and_start(platform, "local", str(root))
    assert await sync.run(fresh_id)
    resynced, fresh = (
        await catalogue_rows(platform, folder_id),
        await catalogue_rows(platform, fresh_id),
    )
    assert resynced == fresh
    assert set(resynced) == set(expected(root))


async def test_progress_is_published_in_order_and_completion_comes_after_the_last_file(
    world: World, platform: Platform, tmp_path: Path
) -> None:
    root = tmp_path / "big"
    generate(root, count=23)
    folder_id = await register_and_start(platform, "local", str(root))
    assert await local_sync(platform, root, batch_size=4).run(folder_id)
    await catalogue_rows(platform, folder_id)

    bootstrap = world.settings.kafka_bootstrap
    progress = [
        m.envelope
        for m in await read_topic(bootstrap, world.topic("storage.folder-sync-progress"))
        if m.envelope["aggregate_id"] == str(folder_id)
    ]
    completed = [
        m.envelope
        for m in await read_topic(bootstrap, world.topic("storage.folder-sync-completed"))
        if m.envelope["aggregate_id"] == str(folder_id)
    ]
    domain = [
        m.envelope
        for m in await read_topic(bootstrap, world.topic("storage.folder"))
        if m.envelope["aggregate_id"] == str(folder_id)
    ]
    assert {e["type"] for e in progress} == {"StorageFolderSyncProgress"}
    processed = [e["data"]["processed"] for e in progress]  # type: ignore[index]
    assert processed == sorted(processed) and processed[-1] == 23 and len(processed) >= 4
    [done] = completed
    assert done["type"] == "StorageFolderSyncCompleted"
    assert done["data"]["total"] == 23 and done["data"]["added"] == 23  # type: ignore[index]
    last_file_version = max(
        int(str(e["version"])) for e in domain if e["type"] == "FolderFilesDiscovered"
    )
    assert int(str(done["version"])) > last_file_version
    assert UUID(str(done["org_id"]))


async def test_a_sync_worker_killed_mid_sync_resumes_and_the_catalogue_is_exact(
    world: World, platform: Platform, tmp_path: Path
) -> None:
    root = tmp_path / "huge"
    [first] = generate(root / "seed", count=1)
    for number in range(3000):
        shutil.copy(first, root / f"copy-{number:05d}.jpg")
    folder_id = await register_and_start(platform, "local", str(root))
    await publish_everything(platform)  # the worker reacts to FolderSyncStarted on Kafka

    async def recorded() -> tuple[int, bool]:
        conn = await asyncpg.connect(world.settings.database_url)
        try:
            rows = await conn.fetch(
                "SELECT topic FROM storage.storage_events WHERE originator_id = $1", folder_id
            )
        finally:
            await conn.close()
        topics = [r["topic"] for r in rows]
        return (
            sum(t.endswith("FilesDiscovered") for t in topics),
            any(t.endswith("SyncCompleted") for t in topics),
        )

    env = {"local_roots": str(tmp_path), "sync_batch_size": "25"}
    worker = world.spawn("run", log_name="sync-1", **env)
    try:
        _, done = await eventually(
            recorded, lambda r: r[0] >= 3, timeout=90, what="some batches recorded"
        )
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert not done, "the sync finished before the worker was killed"

    worker = world.spawn("run", log_name="sync-2", **env)
    try:
        await eventually(recorded, lambda r: r[1], timeout=180, what="the sync completed")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    rows = await catalogue_rows(platform, folder_id)
    assert set(rows) == set(expected(root)) and len(rows) == 3001
