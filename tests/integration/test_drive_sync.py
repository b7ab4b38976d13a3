"""Folder syncs from Google Drive, through the real client, our Drive server and the event store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from commands.folder_sync import FolderSync
from domains.folder import Folder
from infra.bootstrap import Platform
from infra.cloud import Backoff, ProviderConfig, StorageProvider, make_provider
from tests.support.drive_server import DriveServer, drive_server
from tests.support.folders import catalogue_rows, register_and_start
from tests.support.world import World


@pytest.fixture
def drive() -> Iterator[DriveServer]:
    with drive_server() as server:
        yield server


async def no_wait(_: float) -> None:
    return None


def drive_sync(platform: Platform, drive: DriveServer) -> FolderSync:
    config = ProviderConfig(
        drive_api_url=drive.api_endpoint,
        google_token_uri=drive.token_uri,
        backoff=Backoff(max_retries=2, sleep=no_wait),
    )

    async def source(folder: Folder) -> StorageProvider:
        return make_provider("google_drive", drive.service_account_settings(), config)

    return FolderSync(platform.apps["folders"], source, batch_size=500)


async def test_an_incremental_drive_sync_ends_equal_to_a_fresh_full_sync(
    world: World, platform: Platform, drive: DriveServer
) -> None:
    store = drive.store
    wedding = store.add_images(1200, parent=store.add_folder("Wedding"))
    party = store.add_folder("Party", wedding)
    kept = store.add_file("kept.jpg", party)
    renamed = store.add_file("old-name.jpg", party)
    moved = store.add_file("moving.jpg", party)
    changed = store.add_file("retouched.jpg", wedding)
    deleted = store.add_file("deleted.jpg", wedding)
    trashed = store.add_file("trashed.jpg", party)
    outside = store.add_folder("Elsewhere")
    sync = drive_sync(platform, drive)
    folder_id = await register_and_start(platform, "google_drive", wedding)
    assert await sync.run(folder_id)
    full_calls = len(drive.calls_to("files"))
    assert full_calls >= 3, "1,200 images need more than one page of 1,000"

    store.rename(renamed, "new-name.jpg")
    store.move(moved, wedding)
    store.change_content(changed)
    store.delete(deleted)
    store.trash(trashed)
    store.add_file("fresh.jpg", party)
    store.move(kept, outside)  # moved out of the synced folder: removed from it
    await register_and_start(platform, "google_drive", wedding, "incremental", folder_id)
    assert await sync.run(folder_id)
    folder: Folder = platform.apps["folders"].repository.get(folder_id)
    assert folder.cursor is not None

    fresh_id = await register_and_start(platform, "google_drive", wedding)
    assert await sync.run(fresh_id)
    incremental, fresh = (
        await catalogue_rows(platform, folder_id),
        await catalogue_rows(platform, fresh_id),
    )
    assert incremental == fresh
    names = {row["name"] for row in fresh.values()}
    assert {"new-name.jpg", "moving.jpg", "fresh.jpg", "retouched.jpg"} <= names
    assert not {"old-name.jpg", "deleted.jpg", "trashed.jpg", "kept.jpg"} & names
    assert len(fresh) == 1200 + 4


async def test_a_provider_that_keeps_failing_marks_the_sync_failed_with_the_reason(
    world: World, platform: Platform, drive: DriveServer
) -> None:
    wedding = drive.store.add_images(10, parent=drive.store.add_folder("Wedding"))
    folder_id = await register_and_start(platform, "google_drive", wedding)
    drive.fail_next(50, 503)
    assert await drive_sync(platform, drive).run(folder_id)
    folder: Folder = platform.apps["folders"].repository.get(folder_id)
    failed = list(platform.apps["folders"].events.get(folder_id))
    last = failed[-1]
    assert isinstance(last, Folder.SyncFailed)
    assert "503" in last.reason
    assert not folder.syncing and len(drive.calls) >= 3  # retried before giving up
