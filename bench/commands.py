"""Command throughput through HTTP, durable, against the bare library saving one by one.

The whole platform runs as ``make run`` starts it (``python -m infra run``: API processes,
relay, projections and every other worker, split into processes on two cores or more), so the
relay and the projections publish and apply every command while the load runs, as they would
for users; PostgreSQL keeps fsync and synchronous_commit on. Closed-loop clients on keep-alive
connections each send ``POST /api/orgs`` as soon as their previous answer arrives. The
baseline is what the issue calls the ceiling of a naive design: the eventsourcing application
saving one aggregate per ``save()`` in a loop, on the same database server, with the
library's own insert (``as_shipped``: none of the platform's changes to how events are sent).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import uuid4

import asyncpg
import orjson

from bench.auth import Headers, caller_pool
from bench.cpu import CpuMeter, memory_figure, platform_rss_bytes
from bench.events import new_org
from bench.http import HttpConnection
from bench.processes import serving
from bench.report import Figure, Latencies, Stopwatch, client_gc_paused, say
from commands.organizations import OrganizationApplication
from infra.eventstore import open_application
from infra.settings import Settings
from tests.support.world import World

NAME = "commands"
CONCURRENCY = (1, 16, 64)
GOAL_RATIO = 3.0
GOAL_P99_MS = 50.0


@dataclass(frozen=True)
class Sizes:
    seconds: float
    bare_seconds: float
    warmup_seconds: float


def sizes(quick: bool) -> Sizes:
    return Sizes(3.0, 2.0, 0.5) if quick else Sizes(8.0, 5.0, 1.5)


@dataclass(frozen=True)
class Load:
    clients: int
    answers: int
    refused: int
    seconds: float
    client_cpu: float
    latencies: Latencies

    @property
    def rate(self) -> float:
        return self.answers / self.seconds


def bare_saves(settings: Settings, seconds: float) -> tuple[int, float, Latencies]:
    """The baseline: one ``Organization`` per ``save()``, sequentially, for ``seconds``."""
    app = open_application(OrganizationApplication, settings, schema="bench_bare", as_shipped=True)
    owner = uuid4()
    try:
        latencies: list[float] = []
        started = time.perf_counter()
        deadline = started + seconds
        now = started
        while now < deadline:
            app.save(new_org(f"Bare {len(latencies)}", owner))
            after = time.perf_counter()
            latencies.append(after - now)
            now = after
        return len(latencies), now - started, Latencies(latencies)
    finally:
        app.close()


async def closed_loop(
    host: str, port: int, clients: int, seconds: float, users: Sequence[Headers]
) -> Load:
    """``clients`` connections, each sending its next create as soon as the last one answers."""
    conns = [await HttpConnection.open(host, port) for _ in range(clients)]
    latencies: list[float] = []
    refused = 0

    async def client(n: int, conn: HttpConnection, deadline: float) -> None:
        nonlocal refused
        headers = users[n % len(users)]
        i = 0
        while time.perf_counter() < deadline:
            body = orjson.dumps({"name": f"Studio {n}-{i}"})
            i += 1
            sent = time.perf_counter()
            answer = await conn.request("POST", "/api/orgs", body, headers)
            latencies.append(time.perf_counter() - sent)
            if answer.status != 201:
                refused += 1

    try:
        with client_gc_paused(), Stopwatch() as watch:
            deadline = time.perf_counter() + seconds
            await asyncio.gather(*(client(n, c, deadline) for n, c in enumerate(conns)))
    finally:
        await asyncio.gather(*(c.close() for c in conns))
    return Load(
        clients, len(latencies), refused, watch.seconds, watch.cpu_seconds, Latencies(latencies)
    )


async def durability(settings: Settings) -> str:
    """The server settings that make each answered command durable, read back to prove it."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        names = ("fsync", "synchronous_commit", "wal_sync_method", "server_version")
        values = [await conn.fetchval(f"SHOW {n}") for n in names]
    finally:
        await conn.close()
    return ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


async def stored_creations(settings: Settings) -> int:
    """Studios the API really recorded: every 201 must stand for one, no more, no fewer."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM organization.organizations_events "
            "WHERE topic LIKE '%Organization.Created'"
        )
        return int(count)
    finally:
        await conn.close()


async def run(world: World, quick: bool) -> list[Figure]:
    size = sizes(quick)
    settings = world.settings
    say(f"  PostgreSQL: {await durability(settings)}")
    saves, bare_seconds, bare_latency = await asyncio.to_thread(
        bare_saves, settings, size.bare_seconds
    )
    bare_rate = saves / bare_seconds
    say(
        f"  baseline, bare library, 1 aggregate per save(): {bare_rate:,.0f} saves/s "
        f"({saves} in {bare_seconds:.1f} s; {bare_latency.describe()})"
    )
    figures: list[Figure] = []
    loads: list[Load] = []
    async with serving(world, "run", log_name="bench-commands-run", healthy=True):
        host, port = settings.http_host, settings.http_port
        with Stopwatch() as signing_in:
            users = await caller_pool(host, port, max(CONCURRENCY))
        say(f"  {len(users)} users signed in ({signing_in.seconds:.1f} s); client n is user n")
        warm = await closed_loop(host, port, 16, size.warmup_seconds, users)
        at_rest = platform_rss_bytes()
        peak = 0
        for clients in CONCURRENCY:
            with CpuMeter(settings.database_url) as cpu:
                load = await closed_loop(host, port, clients, size.seconds, users)
            loads.append(load)
            peak = max(peak, cpu.platform_rss_peak)
            say(
                f"  {clients:>2} client{'s' if clients > 1 else ' '}: {load.rate:,.0f} req/s, "
                f"{load.latencies.describe()}, "
                f"non-201: {load.refused}, client CPU {load.client_cpu / load.seconds:.0%} "
                f"of one core"
            )
            say(f"      {cpu.describe()}")
    answered = warm.answers + sum(x.answers for x in loads)
    refused = warm.refused + sum(x.refused for x in loads)
    stored = await stored_creations(settings)
    say(
        f"  studios recorded by the API: {stored:,}; 201 answers: {answered - refused:,}; "
        f"each user is a member of ~{stored // len(users):,} by the end"
    )
    for load in loads:
        top = load.clients == max(CONCURRENCY)
        met = (
            load.rate >= GOAL_RATIO * bare_rate
            and load.latencies.p99_ms < GOAL_P99_MS
            and load.refused == 0
            and stored == answered - refused
        )
        figures.append(
            Figure(
                NAME,
                f"POST /api/orgs, {load.clients} client{'s' if load.clients > 1 else ''}",
                load.rate,
                "commands/s",
                "bare save(), sequential",
                bare_rate,
                goal=f">= {GOAL_RATIO:g}x, p99 < {GOAL_P99_MS:g} ms" if top else "",
                met=met if top else None,
                detail=f"{load.latencies.describe()}; non-201 answers: {load.refused}",
            )
        )
    figures.append(memory_figure(NAME, f"up to {max(CONCURRENCY)} clients", peak, at_rest))
    return figures
