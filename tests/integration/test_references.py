"""An album's folder, checked on the write side: Storage's event store, not the read tables.

These run on the real event stores with no relay and no projection, so the read tables know
nothing: every answer here comes from the write model. They also cover albums recorded on
another studio's folder before references were checked: neither their sync request, nor the
storage sync an album asks for, nor the process manager may touch the other studio's folder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from commands.album_sync import AlbumSyncManager
from commands.albums import AlbumCommands
from commands.group_commit import Batch, GroupCommitter
from commands.organizations import OrganizationCommands
from commands.storage import StorageCommands
from domains.album import Album, NewAlbum
from domains.album_actors import Member
from domains.errors import NotFound
from domains.folder import Folder
from domains.personal_data import ClientKey
from infra.bootstrap import Platform
from infra.client_keys import PostgresClientKeys
from infra.folder_owners import StorageFolderOwners
from infra.studio_roles import OrganizationStudioRoles

LINK_KEY = b"test-link-key-0123456789abcdef!!"


@dataclass
class Parts:
    platform: Platform
    albums: AlbumCommands
    albums_committer: GroupCommitter
    storage: StorageCommands
    studio_a: UUID
    studio_b: UUID
    folder_a: UUID
    owners: dict[UUID, Member]


@pytest.fixture
async def parts(platform: Platform) -> AsyncIterator[Parts]:
    async with (
        GroupCommitter(platform.apps["albums"]) as album_committer,
        GroupCommitter(platform.apps["folders"]) as folder_committer,
        GroupCommitter(platform.apps["orgs"]) as org_committer,
    ):
        storage = StorageCommands(folder_committer)
        studios = OrganizationCommands(org_committer, LINK_KEY, timedelta(days=1))
        owner_a, owner_b = Member(uuid4()), Member(uuid4())
        studio_a = (await studios.create("A", owner_a.user_id)).aggregate_id
        studio_b = (await studios.create("B", owner_b.user_id)).aggregate_id
        folder_a = (
            await storage.register(studio_a, "local", "/photos/a", "A's shoot", uuid4())
        ).aggregate_id
        albums = AlbumCommands(
            platform.apps["albums"],
            album_committer,
            LINK_KEY,
            StorageFolderOwners(platform.apps["folders"]),
            OrganizationStudioRoles(platform.apps["orgs"]),
            keys=PostgresClientKeys(platform.pool),
        )
        owners = {studio_a: owner_a, studio_b: owner_b}
        yield Parts(
            platform, albums, album_committer, storage, studio_a, studio_b, folder_a, owners
        )


async def create(parts: Parts, org_id: UUID, folder_id: UUID | None) -> UUID:
    new = NewAlbum("Wedding", "Client", "client@example.com", folder_id)
    written = await parts.albums.create(org_id, new, parts.owners[org_id])
    return written.aggregate_id


async def recorded_before_the_check(parts: Parts, org_id: UUID, folder_id: UUID) -> UUID:
    """An album on ``folder_id`` recorded straight through the aggregate, as before the fix."""

    def decide(batch: Batch) -> Album:
        return batch.add(
            Album.create(
                org_id,
                NewAlbum("Old", "Client", "c@example.com", folder_id),
                "old",
                key=ClientKey(bytes(32)),
            )
        )

    return (await parts.albums_committer.execute(decide)).aggregate_id


def folder_events(parts: Parts) -> list[str]:
    events = parts.platform.apps["folders"].events.get(parts.folder_a)
    return [type(event).__qualname__ for event in events]


async def test_an_album_is_created_only_on_a_folder_of_its_own_studio(parts: Parts) -> None:
    assert await create(parts, parts.studio_a, parts.folder_a)
    assert await create(parts, parts.studio_b, None)
    with pytest.raises(NotFound):  # a stranger to the studio
        await parts.albums.create(parts.studio_a, NewAlbum("W", "C", "c@x.io"), Member(uuid4()))
    for folder_id in (parts.folder_a, uuid4()):
        with pytest.raises(NotFound) as refused:
            await create(parts, parts.studio_b, folder_id)
        assert str(refused.value) == f"Folder {folder_id} was not found"
        assert str(parts.studio_a) not in str(refused.value)


async def test_the_owner_comes_from_the_folders_event_store(parts: Parts) -> None:
    owners = StorageFolderOwners(parts.platform.apps["folders"])
    assert await owners.owner_of(parts.folder_a) == parts.studio_a
    assert await owners.owner_of(uuid4()) is None
    album_id = await create(parts, parts.studio_a, None)
    assert await owners.owner_of(album_id) is None  # an id of another kind is no folder


async def test_an_old_album_on_another_studios_folder_never_syncs_it(parts: Parts) -> None:
    album_id = await recorded_before_the_check(parts, parts.studio_b, parts.folder_a)
    with pytest.raises(NotFound, match=str(parts.folder_a)):
        await parts.albums.request_sync(album_id, parts.owners[parts.studio_b])
    album: Album = parts.platform.apps["albums"].repository.get(album_id)
    assert album.state == "draft"

    # A FullSyncStorage recorded before the fix names the album's studio: Storage refuses it.
    with pytest.raises(NotFound, match=str(parts.folder_a)):
        await parts.storage.start_sync(parts.folder_a, "full", "album:x", for_org=parts.studio_b)
    with pytest.raises(NotFound):
        await parts.storage.start_sync(uuid4(), "full", "album:x", for_org=parts.studio_b)
    assert folder_events(parts) == ["Folder.Registered"]
    requested = await parts.storage.start_sync(
        parts.folder_a, "full", "album:y", for_org=parts.studio_a
    )
    assert not requested.joined
    assert folder_events(parts) == ["Folder.Registered", "Folder.SyncStarted"]


async def test_the_process_manager_copies_no_file_of_another_studio(parts: Parts) -> None:
    foreign = await recorded_before_the_check(parts, parts.studio_b, parts.folder_a)
    own = await create(parts, parts.studio_a, parts.folder_a)
    for album_id in (foreign, own):

        def start(batch: Batch, album_id: UUID = album_id) -> Album:
            album = batch.get(Album, album_id)
            album.request_sync("test")  # straight through the aggregate, as before the fix
            return album

        await parts.albums_committer.execute(start)

    async def ready() -> list[tuple[UUID, UUID]]:
        return [(foreign, parts.folder_a), (own, parts.folder_a)]

    async def files(folder_id: UUID) -> list[tuple[str, str]]:
        return [("a/IMG_1.jpg", "IMG_1.jpg"), ("a/IMG_2.jpg", "IMG_2.jpg")]

    manager = AlbumSyncManager(parts.albums, ready, files)
    assert await manager.sweep() == 1
    albums = parts.platform.apps["albums"].repository
    assert albums.get(foreign).photos == {} and albums.get(foreign).state == "syncing"
    assert len(albums.get(own).photos) == 2 and albums.get(own).state == "ready"
    folder: Folder = parts.platform.apps["folders"].repository.get(parts.folder_a)
    assert folder.org_id == parts.studio_a
