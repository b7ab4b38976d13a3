"""Album snapshots are taken by the worker that follows the albums topic, never by a command.

Picks go through the album use cases as the API runs them; no snapshot appears until the
events are on Kafka and the snapshot worker has read them. Then the auditor's "state as of"
answers from the snapshot, the same as a replay of every event; a restarted worker resumes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from broker.album_snapshot_consumer import AlbumSnapshotter
from commands.album_snapshots import EVERY, latest_snapshot_version
from commands.albums import AlbumCommands, AlbumsApplication, NewAlbum
from commands.history import EventHistory
from commands.organizations import OrganizationCommands
from commands.storage import StorageCommands
from domains.album import photo_id_for
from domains.album_actors import Guest, Member
from infra.bootstrap import Platform
from infra.client_keys import PostgresClientKeys
from infra.eventstore import open_application
from infra.folder_owners import StorageFolderOwners
from infra.studio_roles import OrganizationStudioRoles
from tests.support.relaying import publish_everything
from tests.support.waiting import eventually

KEY = b"test-snapshot-link-key-32-bytes!"
PHOTOS = 12


class WithoutSnapshots(AlbumsApplication):
    """The same tables, replayed from the album's creation: what a snapshot must equal."""

    name = "Albums"
    is_snapshotting_enabled = False


async def _album_with_picks(platform: Platform, picks: int) -> tuple[AlbumCommands, UUID, Guest]:
    me = uuid4()
    orgs = await platform.committer("orgs")
    studio = (
        await OrganizationCommands(orgs, KEY, timedelta(days=1)).create("Studio", me)
    ).aggregate_id
    folders = await platform.committer("folders")
    folder = (
        await StorageCommands(folders).register(studio, "local", "var/demo-photos", "Shoot", me)
    ).aggregate_id
    albums = AlbumCommands(
        platform.apps["albums"],
        await platform.committer("albums"),
        KEY,
        StorageFolderOwners(platform.apps["folders"]),
        OrganizationStudioRoles(platform.apps["orgs"]),
        keys=PostgresClientKeys(platform.pool),
    )
    member = Member(me)
    album = (
        await albums.create(studio, NewAlbum("Wedding", "Client", "c@example.com", folder), member)
    ).aggregate_id
    await albums.request_sync(album, member)
    await albums.update_photos(album, [(f"IMG_{n}.jpg", f"IMG_{n}.jpg") for n in range(PHOTOS)])
    token = (await albums.share(album, None, False, member)).share_token
    guest = Guest(token, "Anna")
    await _pick(albums, album, guest, picks)
    return albums, album, guest


async def _pick(albums: AlbumCommands, album: UUID, guest: Guest, picks: int) -> None:
    """``picks`` picks and unpicks (each a new version), a few at a time as clients do."""
    photos = [photo_id_for(album, f"IMG_{n}.jpg") for n in range(PHOTOS)]
    for start in range(0, picks, 2 * PHOTOS):
        chunk = min(PHOTOS, (picks - start) // 2)
        await asyncio.gather(*(albums.select(guest, p) for p in photos[:chunk]))
        await asyncio.gather(*(albums.deselect(guest, p) for p in photos[:chunk]))


@asynccontextmanager
async def _snapshotting(platform: Platform) -> AsyncIterator[AlbumSnapshotter]:
    s = platform.settings
    worker = AlbumSnapshotter(
        platform.apps["albums"],
        s.kafka_bootstrap,
        namespace=s.namespace,
        topic_prefix=s.topic_prefix,
    )
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _snapshot_versions(platform: Platform, album: UUID) -> list[int]:
    conn = await asyncpg.connect(platform.settings.database_url)
    try:
        rows = await conn.fetch(
            "SELECT originator_version FROM photoflow.albums_snapshots"
            " WHERE originator_id = $1 ORDER BY originator_version",
            album,
        )
    finally:
        await conn.close()
    return [row[0] for row in rows]


def _state(app: Any, album: UUID, version: int) -> dict[str, Any]:
    return EventHistory({"albums": app})._state("albums", album, version, None)


async def test_the_worker_takes_the_snapshots_and_state_as_of_still_answers(
    platform: Platform,
) -> None:
    albums, album, guest = await _album_with_picks(platform, EVERY + 100)
    app = platform.apps["albums"]
    reached = app.repository.get(album).version
    assert reached > EVERY
    assert await _snapshot_versions(platform, album) == [], "the command path takes none"

    await publish_everything(platform)
    async with _snapshotting(platform) as worker:
        await eventually(
            lambda: _snapshot_versions(platform, album), lambda v: v == [reached], timeout=30
        )
        assert worker.taken == 1 and worker.failure is None
        assert await asyncio.to_thread(latest_snapshot_version, app, album) == reached

    # after the snapshot: a few more picks, then the auditor's past versions
    await _pick(albums, album, guest, 20)
    fresh = await asyncio.to_thread(
        open_application, AlbumsApplication, platform.settings, "photoflow", None, False
    )
    plain = await asyncio.to_thread(
        open_application, WithoutSnapshots, platform.settings, "photoflow", None, False
    )
    try:
        for version in (reached - 1, reached, reached + 11):
            from_snapshot = await asyncio.to_thread(_state, fresh, album, version)
            replayed = await asyncio.to_thread(_state, plain, album, version)
            assert from_snapshot == replayed, f"state as of {version}"
            assert from_snapshot["version"] == version
    finally:
        fresh.close()
        plain.close()


async def test_a_restarted_worker_resumes_and_counts_from_the_stored_snapshot(
    platform: Platform,
) -> None:
    albums, album, guest = await _album_with_picks(platform, EVERY + 50)
    app = platform.apps["albums"]
    first = app.repository.get(album).version
    await publish_everything(platform)
    async with _snapshotting(platform):
        await eventually(
            lambda: _snapshot_versions(platform, album), lambda v: v == [first], timeout=30
        )
        # the album's events are the world's only album messages: all of them committed
        await eventually(lambda: _committed(platform), lambda n: n == first, timeout=30)

    more = EVERY - 100  # not yet due, counted from the stored snapshot
    await _pick(albums, album, guest, more)
    await publish_everything(platform)
    async with _snapshotting(platform) as worker:

        async def read() -> int:
            return worker.read

        await eventually(read, lambda n: n >= more, timeout=30)
        await asyncio.sleep(1.5)  # a poll or two more: nothing is due
        assert worker.read == more, "resumed from its committed offsets"
        assert await _snapshot_versions(platform, album) == [first]
        await _pick(albums, album, guest, 150)
        second = app.repository.get(album).version
        await publish_everything(platform)
        await eventually(
            lambda: _snapshot_versions(platform, album),
            lambda v: v == [first, second],
            timeout=30,
        )
        assert worker.taken == 1


async def _committed(platform: Platform) -> int:
    """Messages the snapshot worker's group has committed, over all partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=platform.settings.kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(
            f"{platform.settings.namespace}.album-snapshots"
        )
    finally:
        await admin.close()
    return sum(o.offset for o in offsets.values() if o.offset > 0)
