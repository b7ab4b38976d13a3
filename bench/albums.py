"""An album of 15,000 photos: bring its photos in, load it, page it, and 100 clients picking.

The picking runs through the real API process on the client share routes, 100 keep-alive
connections at once; the baseline is the bare command path, the same picks through the
album's application service in this process, one after the other (no HTTP, no concurrency).
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import timedelta
from uuid import UUID, uuid4

from bench.http import HttpConnection
from bench.pages import page_latencies
from bench.processes import serving
from bench.report import Figure, Latencies, Stopwatch, say
from commands.albums import AlbumCommands, AlbumsApplication, NewAlbum
from commands.group_commit import GroupCommitter
from commands.organizations import OrganizationCommands
from commands.storage import StorageCommands
from domains.album import Album, photo_id_for
from domains.album_actors import Guest, Member
from infra.bootstrap import open_platform
from infra.client_keys import PostgresClientKeys
from infra.eventstore import open_application
from infra.folder_owners import StorageFolderOwners
from infra.studio_roles import OrganizationStudioRoles
from projections.albums import AlbumsProjection
from projections.rebuild import rebuild
from queries.album_reads import PHOTOS_AFTER
from tests.support.relaying import publish_everything
from tests.support.world import World

NAME = "albums"
ALBUM_KEYS = "SELECT name, photo_id FROM read.album_photos WHERE album_id = $1"
LINK_KEY = b"bench-link-key-bench-link-key-32"


async def run(world: World, quick: bool) -> list[Figure]:
    photos, seconds = (3_000, 4.0) if quick else (15_000, 8.0)
    files = [(f"IMG_{n:05d}.jpg", f"IMG_{n:05d}.jpg") for n in range(photos)]
    async with open_platform(world.settings) as platform:
        app = platform.apps["albums"]
        photographer = uuid4()
        async with GroupCommitter(platform.apps["orgs"]) as orgs:
            invitations = OrganizationCommands(orgs, LINK_KEY, timedelta(days=1))
            studio = (await invitations.create("Bench studio", photographer)).aggregate_id
        async with GroupCommitter(platform.apps["folders"]) as folders:
            folder_id = (
                await StorageCommands(folders).register(
                    studio, "local", str(world.settings.demo_photos_dir), "Wedding", photographer
                )
            ).aggregate_id
        async with GroupCommitter(app) as committer:
            owners = StorageFolderOwners(platform.apps["folders"])
            roles = OrganizationStudioRoles(platform.apps["orgs"])
            keys = PostgresClientKeys(platform.pool)  # the API's guests open the same keys
            albums = AlbumCommands(app, committer, LINK_KEY, owners, roles, keys=keys)
            member = Member(photographer)

            async def new_album() -> tuple[str, str]:
                new = NewAlbum("Big wedding", "Client", "c@x.io", folder_id)
                album_id = (await albums.create(studio, new, member)).aggregate_id
                await albums.request_sync(album_id, member)
                return str(album_id), ""

            album_id, _ = await new_album()
            with Stopwatch() as sync:
                await albums.update_photos(uuid_of(album_id), files)
            say(f"  photos into the album: {photos:,} in {sync.seconds:.2f} s")
            token = (await albums.share(uuid_of(album_id), None, False, member)).share_token

            with Stopwatch() as load:
                fresh = await asyncio.to_thread(
                    open_application, AlbumsApplication, world.settings, "photoflow"
                )
                loaded: Album = await asyncio.to_thread(fresh.repository.get, uuid_of(album_id))
                fresh.close()
            cold_ms = load.seconds * 1000
            say(f"  load the aggregate (cold, {loaded.version} events): {cold_ms:.0f} ms")

            # The bare command path: picks through the application service, one at a time.
            baseline_id, _ = await new_album()
            await albums.update_photos(uuid_of(baseline_id), files)
            base_token = (await albums.share(uuid_of(baseline_id), None, False, member)).share_token
            guest = Guest(base_token, "bench")
            picks = [photo_id_for(uuid_of(baseline_id), f) for f, _ in files]
            base_lat: list[float] = []
            deadline = time.perf_counter() + seconds
            started = time.perf_counter()
            while time.perf_counter() < deadline and picks:
                sent = time.perf_counter()
                await albums.select(guest, picks.pop())
                base_lat.append(time.perf_counter() - sent)
            base_rate = len(base_lat) / (time.perf_counter() - started)
            say(
                f"  baseline, bare command path, sequential: {base_rate:,.0f} picks/s, "
                f"{Latencies(base_lat).describe()}"
            )

        await publish_everything(platform)
        await rebuild(
            AlbumsProjection(),
            platform.pool,
            world.settings.kafka_bootstrap,
            5000,
            topic_prefix=world.settings.topic_prefix,
            progress=False,
        )
        pages = await page_latencies(
            platform.pool,
            "SELECT name, photo_id FROM read.album_photos WHERE album_id = $1",
            PHOTOS_AFTER.format(shown=""),
            uuid_of(album_id),
        )
        say(f"  photos page at {photos:,}: {pages.describe()}")

    host, port = world.settings.http_host, world.settings.http_port
    async with serving(world, "api", "bench-albums", healthy=False):
        ids = [photo_id_for(uuid_of(album_id), f) for f, _ in files]
        random.Random(3).shuffle(ids)
        conns = [await HttpConnection.open(host, port) for _ in range(100)]
        lat: list[float] = []
        refused = 0
        # The API process's first pick loads the album (cold): timed on its own, so that the
        # clients' figures are the steady state a client meets after it.
        sent = time.perf_counter()
        first = await conns[0].request(
            "POST", f"/api/share/{token}/photos/{ids[-1]}/select", headers=[("X-Guest", "first")]
        )
        first_ms = (time.perf_counter() - sent) * 1000
        say(f"  the API's first pick (loads the album cold): {first_ms:.0f} ms, {first.status}")

        async def client(n: int, conn: HttpConnection, end: float) -> None:
            nonlocal refused
            mine = ids[n::100]
            for photo in mine:
                if time.perf_counter() >= end:
                    return
                sent = time.perf_counter()
                answer = await conn.request(
                    "POST",
                    f"/api/share/{token}/photos/{photo}/select",
                    headers=[("X-Guest", f"guest-{n % 7}")],
                )
                lat.append(time.perf_counter() - sent)
                refused += answer.status != 200

        start = time.perf_counter()
        try:
            await asyncio.gather(*(client(n, c, start + seconds) for n, c in enumerate(conns)))
        finally:
            await asyncio.gather(*(c.close() for c in conns))
        rate = len(lat) / (time.perf_counter() - start)
        latencies = Latencies(lat)
        say(
            f"  100 clients picking through HTTP: {rate:,.0f} picks/s, {latencies.describe()},"
            f" refused {refused}"
        )
    return [
        Figure(
            NAME,
            f"100 clients picking, album of {photos:,}",
            rate,
            "picks/s",
            "bare command path, sequential",
            base_rate,
            detail=f"p99 {latencies.p99_ms:.0f} ms after the API's first pick ({first_ms:.0f} ms,"
            f" cold); refused {refused}; photos in {sync.seconds:.1f} s; cold load "
            f"{load.seconds * 1000:.0f} ms",
        ),
        Figure(
            NAME,
            f"album photos page p99 at {photos:,}",
            pages.p99_ms,
            "ms",
            "p50 of the same pages",
            pages.p50_ms,
            detail="500 pages of 50 at random cursors, the route's query",
        ),
    ]


def uuid_of(text: str) -> UUID:
    return UUID(text)
