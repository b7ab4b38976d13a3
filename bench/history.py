"""An auditor's "state as of" for a 15,000-photo album, with snapshots against without.

The album is built through the album use cases as the API runs them: 15,000 photos synced in,
shared, then 3,000 ratings from five guests (so about 3,000 events). The snapshots are taken as
the platform takes them: the relay publishes the events while they are written and the snapshot
worker (``broker.album_snapshot_consumer``) follows the albums topic; the benchmark waits until
it has read everything and nothing is due. The figure is the audit history's answer (``EventHistory
.state``, what ``GET /api/audit/albums/{id}/state`` runs, JSON included) at a past version and
at a past time; the baseline is the same answer from an application over the same event store
that has no snapshots, so it replays every event from the album's creation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import orjson

from bench.report import Figure, say
from broker.album_snapshot_consumer import AlbumSnapshotter
from broker.relay import Relay, RelaySource, make_producer
from commands.album_snapshots import latest_snapshot_version
from commands.albums import AlbumCommands, AlbumsApplication, NewAlbum
from commands.group_commit import GroupCommitter
from commands.history import EventHistory
from commands.organizations import OrganizationCommands
from commands.storage import StorageCommands
from domains.album import photo_id_for
from domains.album_actors import Guest, Member
from infra.bootstrap import Platform, open_platform
from infra.client_keys import PostgresClientKeys
from infra.eventstore import open_application
from infra.folder_owners import StorageFolderOwners
from infra.studio_roles import OrganizationStudioRoles
from tests.support.waiting import eventually
from tests.support.world import World

NAME = "history"
KEY = b"bench-history-link-key-32-bytes!"


class WithoutSnapshots(AlbumsApplication):
    name = "Albums"  # the same tables
    is_snapshotting_enabled = False


async def _album(world: World, photos: int, ratings: int) -> tuple[UUID, datetime, int]:
    """The album, a moment in its past, and the version it had then."""
    async with open_platform(world.settings) as platform:
        app, me = platform.apps["albums"], uuid4()
        async with GroupCommitter(platform.apps["orgs"]) as orgs:
            studio = (
                await OrganizationCommands(orgs, KEY, timedelta(days=1)).create("Bench", me)
            ).aggregate_id
        async with GroupCommitter(platform.apps["folders"]) as folders:
            folder = (
                await StorageCommands(folders).register(
                    studio, "local", str(world.settings.demo_photos_dir), "Wedding", me
                )
            ).aggregate_id
        async with GroupCommitter(app) as committer:
            albums = AlbumCommands(
                app,
                committer,
                KEY,
                StorageFolderOwners(platform.apps["folders"]),
                OrganizationStudioRoles(platform.apps["orgs"]),
                keys=PostgresClientKeys(platform.pool),
            )
            member = Member(me)
            new = NewAlbum("Big wedding", "Client", "c@example.com", folder)
            album = (await albums.create(studio, new, member)).aggregate_id
            await albums.request_sync(album, member)
            files = [(f"IMG_{n:05d}.jpg", f"IMG_{n:05d}.jpg") for n in range(photos)]
            await albums.update_photos(album, files)
            token = (await albums.share(album, None, False, member)).share_token
            moment, version = datetime.now(UTC), 0
            async with _snapshotting(platform) as snapshotter:
                for n in range(ratings):
                    guest = Guest(token, f"guest-{n % 5}")
                    photo = photo_id_for(album, files[n % photos][0])
                    written = await albums.rate(guest, photo, 1 + n % 5, None)
                    if n == ratings * 2 // 3:
                        moment, version = datetime.now(UTC), written.version
                last = written.version

                async def caught_up() -> bool:
                    return snapshotter.caught_up(last)

                await eventually(caught_up, bool, timeout=120, what="snapshots taken")
            snapshots = await asyncio.to_thread(latest_snapshot_version, app, album)
            say(f"  the worker took {snapshotter.taken} snapshot(s), the latest at {snapshots:,}")
    return album, moment, version


class _Following:
    """The snapshot worker as the benchmark sees it: how far it got, and whether it failed."""

    def __init__(self, worker: AlbumSnapshotter, tasks: list[asyncio.Task[None]]) -> None:
        self.worker = worker
        self.tasks = tasks

    @property
    def taken(self) -> int:
        return self.worker.taken

    def caught_up(self, last_version: int) -> bool:
        """It read every album event up to ``last_version`` and no album is due; a failed
        relay or worker raises here instead of leaving the benchmark waiting."""
        for task in self.tasks:
            if task.done():
                task.result()
                raise RuntimeError("the relay or the snapshot worker stopped")
        return self.worker.read >= last_version and self.worker.caught_up()


@asynccontextmanager
async def _snapshotting(platform: Platform) -> AsyncIterator[_Following]:
    """The relay and the snapshot worker, following the writes as they do on the platform."""
    s = platform.settings
    producer = make_producer(s.kafka_bootstrap)
    await producer.start()
    sources = [RelaySource(app, s.topic_prefix) for app in platform.applications()]
    relay = Relay(sources, platform.pool, producer, batch_size=2000)
    snapshotter = AlbumSnapshotter(
        platform.apps["albums"],
        s.kafka_bootstrap,
        namespace=s.namespace,
        topic_prefix=s.topic_prefix,
    )
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(snapshotter.run())]
    try:
        yield _Following(snapshotter, tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer.stop()


def _answer_ms(
    history: EventHistory, album: UUID, version: int | None, at: datetime | None
) -> float:
    """The best of three answers: a shared machine only ever makes one slower."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        state = history._state("albums", album, version, at)
        orjson.dumps(state)
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


async def run(world: World, quick: bool) -> list[Figure]:
    photos, ratings = (3_000, 1_000) if quick else (15_000, 3_000)
    album, moment, version = await _album(world, photos, ratings)
    say(f"  album: {photos:,} photos, {ratings:,} ratings; past moment at version {version:,}")
    with_snapshots = await asyncio.to_thread(
        open_application, AlbumsApplication, world.settings, "photoflow", None, False
    )
    without = await asyncio.to_thread(
        open_application, WithoutSnapshots, world.settings, "photoflow", None, False
    )
    try:
        fast, slow = EventHistory({"albums": with_snapshots}), EventHistory({"albums": without})
        at_version = await asyncio.to_thread(_answer_ms, fast, album, version, None)
        at_version_base = await asyncio.to_thread(_answer_ms, slow, album, version, None)
        at_time = await asyncio.to_thread(_answer_ms, fast, album, None, moment)
        at_time_base = await asyncio.to_thread(_answer_ms, slow, album, None, moment)
    finally:
        with_snapshots.close()
        without.close()
    say(
        f"  state at version {version:,}: {at_version:.0f} ms with snapshots, "
        f"{at_version_base:.0f} ms replaying everything; at a time: {at_time:.0f} ms, "
        f"{at_time_base:.0f} ms"
    )
    detail = f"{photos:,} photos, picks and ratings per guest included in the answer"
    return [
        Figure(
            NAME,
            f"album state as of a past version ({photos:,} photos)",
            at_version,
            "ms",
            "the same answer replayed without snapshots",
            at_version_base,
            goal="< 1000 ms",
            met=at_version < 1000,
            detail=detail,
        ),
        Figure(
            NAME,
            f"album state as of a past time ({photos:,} photos)",
            at_time,
            "ms",
            "the same answer replayed without snapshots",
            at_time_base,
            goal="< 1000 ms",
            met=at_time < 1000,
            detail=detail + "; the version found by a binary search over event times",
        ),
    ]
