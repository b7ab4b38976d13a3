"""An album of 15,000 photos: bring its photos in, load it, page it, and 100 clients picking.

The picking runs through the real API process on the client share routes, 100 keep-alive
connections at once: first at a guest's pace (a pick a second each, at random phases: what a
studio's clients on their phones do), then as fast as the answers come (closed loop: the
platform's capacity, and its latency when saturated). The baseline is the bare command path,
the same picks through the album's application service in this process, one after the other
(no HTTP, no concurrency).

The whole platform runs during the picks: the API process(es) as ``bench.processes.serving``
starts them, and beside them every worker role of the split layout in a process of its own, as
``python -m infra run`` runs them on this two-core machine. The relay publishes the picks and
the album-sync process takes the album's snapshots from them (``commands.album_snapshots``),
so the picks' figures include what the rest of the platform costs the machine meanwhile.
Memory is the summed RSS of every platform process (this benchmark's child processes and
theirs, ``bench.cpu``), sampled during the picks; its peak is judged against the issue's 1.5 GB.
After the picks the benchmark waits for the album's last due snapshot and lists them all.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import orjson

from bench.cpu import CpuMeter, memory_figure, platform_pids, platform_rss_bytes
from bench.http import HttpConnection
from bench.pages import page_latencies
from bench.processes import OVERRIDES, serving, stop
from bench.report import Figure, Latencies, Stopwatch, say
from commands.album_snapshots import snapshot_interval
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
from infra.processes import POOL_SETTINGS, ROLE_POOLS, layout
from infra.studio_roles import OrganizationStudioRoles
from projections.albums import AlbumsProjection
from projections.rebuild import rebuild
from queries.album_reads import PHOTOS_AFTER
from tests.support.relaying import publish_everything
from tests.support.world import World

NAME = "albums"
ALBUM_KEYS = "SELECT name, photo_id FROM read.album_photos WHERE album_id = $1"
LINK_KEY = b"bench-link-key-bench-link-key-32"
GOAL_P99_MS = 50.0
PACE_SECONDS = 1.0
"""A guest tapping through on a phone: twice the pace the capacity plan assumes (a pick every
2 s, docs/scaling.md)."""


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
    async with workers_beside(world), serving(world, "api", "bench-albums", healthy=False):
        await platform_ready(host, port)
        ids = [photo_id_for(uuid_of(album_id), f) for f, _ in files]
        random.Random(3).shuffle(ids)
        conns = [await HttpConnection.open(host, port) for _ in range(100)]
        lat: list[float] = []
        statuses: Counter[int] = Counter()  # the closed loop's refusals, by status
        # Each API process's first pick loads the album (cold). Every connection sends one
        # pick at once, so that each process (the kernel deals connections out among them) has
        # loaded it before the clients' figures start: those are the steady state a client
        # meets after it. The slowest of these first picks is the cold figure.
        sent = time.perf_counter()
        firsts = await asyncio.gather(
            *(
                conn.request(
                    "POST",
                    f"/api/share/{token}/photos/{ids[-1 - n]}/select",
                    headers=[("X-Guest", "first")],
                )
                for n, conn in enumerate(conns)
            )
        )
        first_ms = (time.perf_counter() - sent) * 1000
        first = Counter(answer.status for answer in firsts)
        say(
            f"  the API processes' first picks, one per connection (each process loads the"
            f" album cold): {first_ms:.0f} ms, {dict(first)}"
        )
        if set(first) != {200}:
            raise RuntimeError(f"the first picks were refused: {dict(first)}")

        unpicked = [iter(ids[n::100]) for n in range(100)]  # each client's photos, in order

        async def pick(
            n: int,
            conn: HttpConnection,
            photo: UUID,
            since: float,
            lat: list[float],
            refusals: Counter[int],
            sent_lat: list[float] | None = None,
        ) -> None:
            """One pick; its latency from ``since`` (and from its send into ``sent_lat``) if
            answered 200, else its status counted."""
            sent = time.perf_counter()
            answer = await conn.request(
                "POST",
                f"/api/share/{token}/photos/{photo}/select",
                headers=[("X-Guest", f"guest-{n % 7}")],
            )
            if answer.status == 200:
                answered = time.perf_counter()
                lat.append(answered - since)
                if sent_lat is not None:
                    sent_lat.append(answered - sent)
            else:
                refusals[answer.status] += 1

        async def client(n: int, conn: HttpConnection, end: float) -> None:
            """As fast as the answers come: the platform's capacity (closed loop)."""
            for photo in unpicked[n]:
                if time.perf_counter() >= end:
                    return
                await pick(n, conn, photo, time.perf_counter(), lat, statuses)

        async def paced_client(n: int, conn: HttpConnection, end: float) -> None:
            """A pick every ``PACE_SECONDS`` at a random phase: a guest's thumb. Each pick is
            timed from when it was due, so a late one (after a slow answer, or a busy loop
            here) counts its wait too."""
            due = time.perf_counter() + random.Random(n).uniform(0, PACE_SECONDS)
            for photo in unpicked[n]:
                if due >= end:
                    return
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                await pick(n, conn, photo, due, paced, paced_refusals, paced_sent)
                due += PACE_SECONDS

        paced: list[float] = []
        paced_refusals: Counter[int] = Counter()
        paced_sent: list[float] = []  # the same picks timed from their send
        start = time.perf_counter()
        await asyncio.gather(*(paced_client(n, c, start + seconds) for n, c in enumerate(conns)))
        paced_rate = len(paced) / (time.perf_counter() - start)
        paced_latencies = Latencies(paced)
        say(
            f"  100 clients picking at a guest's pace (one pick every {PACE_SECONDS:g} s each):"
            f" {paced_rate:,.0f} picks/s, from when due: {paced_latencies.describe()};"
            f" from the send: {Latencies(paced_sent).describe()};"
            f" refused {paced_refusals.total()} {dict(paced_refusals)}"
        )

        at_rest = platform_rss_bytes()
        start = time.perf_counter()
        try:
            with CpuMeter(world.settings.database_url) as cpu:
                await asyncio.gather(*(client(n, c, start + seconds) for n, c in enumerate(conns)))
        finally:
            await asyncio.gather(*(c.close() for c in conns))
        own_peaks = process_peaks()  # while the processes still run
        rate = len(lat) / (time.perf_counter() - start)
        latencies = Latencies(lat)
        say(
            f"  100 clients picking through HTTP: {rate:,.0f} picks/s, {latencies.describe()},"
            f" refused {statuses.total()} {dict(statuses)}"
        )
        say(f"      {cpu.describe()}; at rest before the picks {at_rest / 2**20:,.0f} MB")
        say(f"      each platform process's own peak RSS, MB: {own_peaks}")
        snapshots = await snapshots_caught_up(world, uuid_of(album_id), photos)
    return [
        Figure(
            NAME,
            f"100 clients picking at a guest's pace, album of {photos:,}: p99",
            paced_latencies.p99_ms,
            "ms",
            "bare command path, sequential: p99",
            Latencies(base_lat).p99_ms,
            goal=f"p99 < {GOAL_P99_MS:g} ms",
            met=paced_latencies.p99_ms < GOAL_P99_MS and not paced_refusals,
            detail=f"one pick every {PACE_SECONDS:g} s per client at random phases, each timed"
            f" from when it was due (the load generator shares the 2 cores, so its own lag"
            f" counts too): {paced_rate:,.0f} picks/s; p50 {paced_latencies.p50_ms:.1f} ms;"
            f" from the send p99 {Latencies(paced_sent).p99_ms:.1f} ms; refused"
            f" {paced_refusals.total()}",
        ),
        Figure(
            NAME,
            f"100 clients picking, album of {photos:,}",
            rate,
            "picks/s",
            "bare command path, sequential",
            base_rate,
            goal=f"p99 < {GOAL_P99_MS:g} ms",
            met=latencies.p99_ms < GOAL_P99_MS,
            detail=f"closed loop, each client picks again as soon as answered: p99"
            f" {latencies.p99_ms:.0f} ms after the API processes' first picks"
            f" ({first_ms:.0f} ms, cold); refused {statuses.total()}; photos in"
            f" {sync.seconds:.1f} s; cold load {load.seconds * 1000:.0f} ms; the whole platform"
            f" running, snapshots at versions {snapshots}",
        ),
        memory_figure(NAME, "100 clients picking", cpu.platform_rss_peak, at_rest),
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


@asynccontextmanager
async def workers_beside(world: World) -> AsyncIterator[None]:
    """Every worker role of the split layout, each in its own process with its role's pools,
    until the block ends (the API processes are ``serving``'s)."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for child in layout(world.settings, api_workers=0):
            role = child.args[0]
            pools = {
                name.removeprefix("PHOTOFLOW_").lower(): str(size)
                for name, size in zip(POOL_SETTINGS, ROLE_POOLS[role], strict=True)
            }
            procs.append(
                world.spawn(*child.args, log_name=f"bench-albums-{role}", **OVERRIDES, **pools)
            )
        yield
    finally:
        await asyncio.gather(*(asyncio.to_thread(stop, proc) for proc in procs))


async def platform_ready(host: str, port: int, timeout: float = 120.0) -> None:
    """Until /api/health shows every worker running and caught up (the projections have read
    the album's 15,000 photos), so that the picks meet a platform at rest."""
    deadline = time.monotonic() + timeout
    workers: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        conn = await HttpConnection.open(host, port)
        try:
            answer = await conn.request("GET", "/api/health")
        finally:
            await conn.close()
        workers = orjson.loads(answer.body).get("workers", [])
        if workers and all(w["running"] and not w["lag"] for w in workers):
            return
        await asyncio.sleep(0.5)
    behind = [f"{w['kind']}:{w['name']}" for w in workers if not w["running"] or w["lag"]]
    say(f"  (the platform was not at rest after {timeout:.0f} s: {', '.join(behind)})")


def process_peaks() -> str:
    """Each platform process's own peak RSS (VmHWM, MB) by role: which one holds what."""
    return ", ".join(f"{_name(pid)} {_hwm_mb(pid):.0f}" for pid in sorted(platform_pids()))


def _name(pid: int) -> str:
    """The role a platform process plays: ``python -m infra ROLE ...``."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return "?"
    if len(args) > 3 and args[1:3] == ["-m", "infra"]:
        return args[3]
    return " ".join([Path(args[0]).name, *args[1:3]])[:40]


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def snapshots_caught_up(world: World, album_id: UUID, photos: int) -> list[int]:
    """The album's snapshot versions, once none is due (or after 60 s): the worker's."""
    conn = await asyncpg.connect(world.settings.database_url)
    try:
        started, versions = time.perf_counter(), []
        while time.perf_counter() - started < 60:
            reached = await conn.fetchval(
                "SELECT max(originator_version) FROM photoflow.albums_events"
                " WHERE originator_id = $1",
                album_id,
            )
            versions = [
                row[0]
                for row in await conn.fetch(
                    "SELECT originator_version FROM photoflow.albums_snapshots"
                    " WHERE originator_id = $1 ORDER BY originator_version",
                    album_id,
                )
            ]
            if reached - max(versions, default=0) < snapshot_interval(photos):
                break
            await asyncio.sleep(0.5)
        say(
            f"  the album reached version {reached:,}; snapshots at versions {versions}, "
            f"{time.perf_counter() - started:.1f} s after the picks"
        )
        return versions
    finally:
        await conn.close()
