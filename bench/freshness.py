"""Freshness: how long after a command's answer its result shows in the query API.

The whole platform runs in one subprocess (``python -m infra run``: API, relay, projector).
Commands arrive open-loop at a steady rate, as users would send them, not as fast as answers
come back. After each 201 the client either polls ``GET /api/orgs/{id}`` until it answers 200,
or sends one GET with the command's ``X-Consistency-Token`` and lets the server wait. The
baseline is the plain read round trip under the same load: a GET of an org already visible.
Each is measured at a light rate and at the issue's rate, with the platform drained between.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.auth import Headers, caller_pool
from bench.cpu import CpuMeter, memory_figure, platform_rss_bytes
from bench.http import Answer, HttpPool
from bench.processes import serving
from bench.report import Figure, Latencies, client_gc_paused, say
from bench.tail import KafkaTail
from broker.topics import ORGS
from tests.support.world import World

NAME = "freshness"
GOAL_P99_MS = 100.0
POLL_SECONDS = 0.005
GIVE_UP_SECONDS = 10.0
USERS = 32


@dataclass(frozen=True)
class Api:
    """The connection pool and one signed-in user, so probes need not carry both."""

    pool: HttpPool
    headers: Headers

    async def get(self, path: str, *extra: tuple[str, str]) -> Answer:
        return await self.pool.request("GET", path, headers=(*self.headers, *extra))

    async def post(self, path: str, body: bytes) -> Answer:
        return await self.pool.request("POST", path, body, self.headers)


# After a 201, a probe waits until the write is visible and returns how many GETs it sent.
Probe = Callable[[Api, dict[str, Any]], Awaitable[int]]


@dataclass(frozen=True)
class Sizes:
    rates: tuple[float, ...]
    """A light load shows the pipeline's own latency; the issue's load shows it under work."""
    seconds: float
    warmup_seconds: float


def sizes(quick: bool) -> Sizes:
    return Sizes((20.0, 500.0), 3.0, 2.0) if quick else Sizes((20.0, 100.0, 500.0), 8.0, 3.0)


@dataclass
class Phase:
    visible: list[float] = field(default_factory=list)
    commands: list[float] = field(default_factory=list)
    gets: int = 0
    failures: int = 0
    late: float = 0.0
    created_by: dict[int, str] = field(default_factory=dict)
    """For each user (by index in the pool), one of their studios that became visible."""
    answered: dict[str, float] = field(default_factory=dict)

    def relay_leg(self, tail: KafkaTail) -> Latencies:
        """From each 201 to its first event reaching a consumer of the topic."""
        seen = tail.first_seen
        return Latencies([seen[o] - t for o, t in self.answered.items() if o in seen])


class ReadFailed(Exception):
    pass


async def poll(api: Api, written: dict[str, Any]) -> int:
    """GET without a token until 200, a short pause after each 404."""
    gets = 0
    while True:
        answer = await api.get(f"/api/orgs/{written['org_id']}")
        gets += 1
        if answer.status == 200:
            return gets
        if answer.status != 404:
            raise ReadFailed(answer.status)
        await asyncio.sleep(POLL_SECONDS)


async def with_token(api: Api, written: dict[str, Any]) -> int:
    """One GET carrying the command's consistency token; the server waits until it is visible."""
    token = ("X-Consistency-Token", written["consistency_token"])
    answer = await api.get(f"/api/orgs/{written['org_id']}", token)
    if answer.status != 200:
        raise ReadFailed(answer.status)
    return 1


def read_visible(visible: dict[Api, str]) -> Probe:
    """The baseline: a GET of a studio of the same user that is already in the read table."""

    async def probe(api: Api, written: dict[str, Any]) -> int:
        answer = await api.get(f"/api/orgs/{visible[api]}")
        if answer.status != 200:
            raise ReadFailed(answer.status)
        return 1

    return probe


async def open_loop(apis: Sequence[Api], rate: float, seconds: float, probe: Probe) -> Phase:
    """Send ``rate`` creates a second for ``seconds`` on schedule, each followed by ``probe``.

    Command ``i`` comes from user ``i`` modulo the pool, and its probe reads as that user.
    """
    phase = Phase()

    async def one(i: int) -> None:
        api = apis[i % len(apis)]
        body = orjson.dumps({"name": f"Fresh studio {i}"})
        sent = time.perf_counter()
        try:
            answer = await asyncio.wait_for(api.post("/api/orgs", body), GIVE_UP_SECONDS)
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            phase.failures += 1
            return
        answered = time.perf_counter()
        phase.commands.append(answered - sent)
        if answer.status != 201:
            phase.failures += 1
            return
        written = orjson.loads(answer.body)
        phase.answered[str(written["org_id"])] = answered
        try:
            gets = await asyncio.wait_for(probe(api, written), GIVE_UP_SECONDS)
        except (ReadFailed, TimeoutError, OSError, asyncio.IncompleteReadError):
            phase.failures += 1
            return
        phase.visible.append(time.perf_counter() - answered)
        phase.gets += gets  # after the await: ``x += await f()`` reads x before awaiting
        phase.created_by.setdefault(i % len(apis), str(written["org_id"]))

    tasks: list[asyncio.Task[None]] = []
    with client_gc_paused():
        start = time.perf_counter() + 0.01
        for i in range(int(rate * seconds)):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            phase.late = max(phase.late, time.perf_counter() - due)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    return phase


def describe(label: str, phase: Phase) -> str:
    sent = len(phase.commands)
    return (
        f"{label}: {Latencies(phase.visible).describe()}; {phase.gets / max(1, sent):.1f} GETs "
        f"per command; POST {Latencies(phase.commands).describe()}; failures {phase.failures}; "
        f"schedule slip max {phase.late * 1000:.1f} ms"
    )


async def drained(pool: HttpPool, timeout: float = 60.0) -> None:
    """Wait until the relay and every projector report no lag, so phases do not overlap."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = await pool.request("GET", "/api/health")
        workers = orjson.loads(answer.body).get("workers", []) if answer.body else []
        if answer.status == 200 and all(not w.get("lag") for w in workers):
            return
        await asyncio.sleep(0.5)
    say(f"  (the platform still lags after {timeout:g} s; the next phase starts anyway)")


async def at_rate(
    world: World,
    api: Sequence[Api],
    rate: float,
    seconds: float,
    visible: dict[Api, str],
    at_rest: int,
) -> list[Figure]:
    """Polling, token and baseline phases at one steady rate; the figures for that rate."""
    database = world.settings.database_url
    pool = api[0].pool
    await drained(pool)
    async with KafkaTail(world.settings.kafka_bootstrap, world.topic(ORGS.topic)) as tail:
        with CpuMeter(database) as cpu:
            polled = await open_loop(api, rate, seconds, poll)
        polled_peak = cpu.platform_rss_peak
        await asyncio.sleep(0.5)  # let the tail see the last events
    relay_leg = polled.relay_leg(tail)
    say(f"  {describe(f'{rate:g}/s, polling GET', polled)}")
    say(f"      of which 201 -> event seen on Kafka: {relay_leg.describe()}")
    say(f"      {cpu.describe()}")
    await drained(pool)
    with CpuMeter(database) as cpu:
        tokened = await open_loop(api, rate, seconds, with_token)
    tokened_peak = cpu.platform_rss_peak
    say(f"  {describe(f'{rate:g}/s, GET with X-Consistency-Token', tokened)}")
    say(f"      {cpu.describe()}")
    await drained(pool)
    with CpuMeter(database) as cpu:
        base = await open_loop(api, rate, seconds, read_visible(visible))
    say(f"  {describe(f'{rate:g}/s, baseline: GET of a visible org', base)}")
    say(f"      {cpu.describe()}")
    peak = max(polled_peak, tokened_peak, cpu.platform_rss_peak)
    base_latency = Latencies(base.visible)
    figures = []
    for label, phase in (("polling GET", polled), ("X-Consistency-Token", tokened)):
        latency = Latencies(phase.visible)
        on_kafka = f"; on Kafka after p50 {relay_leg.p50_ms:.1f} ms, p99 {relay_leg.p99_ms:.1f} ms"
        figures.append(
            Figure(
                NAME,
                f"freshness p99, {label}, {rate:g} commands/s",
                latency.p99_ms,
                "ms",
                "p99 of a GET of a visible org, same load",
                base_latency.p99_ms,
                goal=f"p99 < {GOAL_P99_MS:g} ms",
                met=latency.p99_ms < GOAL_P99_MS and phase.failures == 0,
                detail=f"p50 {latency.p50_ms:.1f} ms vs {base_latency.p50_ms:.1f} ms; "
                f"POST p99 {Latencies(phase.commands).p99_ms:.1f} ms; failures {phase.failures}"
                + (on_kafka if phase is polled else ""),
            )
        )
    figures.append(memory_figure(NAME, f"{rate:g} commands/s", peak, at_rest))
    return figures


async def run(world: World, quick: bool) -> list[Figure]:
    size = sizes(quick)
    settings = world.settings
    async with serving(world, "run", log_name="bench-freshness-run", healthy=True):
        pool = HttpPool(settings.http_host, settings.http_port)
        try:
            users = await caller_pool(settings.http_host, settings.http_port, USERS)
            api = [Api(pool, headers) for headers in users]
            warm = await open_loop(api, min(size.rates), size.warmup_seconds, poll)
            if len(warm.created_by) < len(api):
                raise RuntimeError("not every user saw a studio of theirs during the warm-up")
            visible = {api[k]: org_id for k, org_id in warm.created_by.items()}
            await drained(pool)
            at_rest = platform_rss_bytes()
            figures = []
            for rate in size.rates:
                figures += await at_rate(world, api, rate, size.seconds, visible, at_rest)
            say(f"  connections opened by the client: {pool.opened}")
        finally:
            await pool.close()
    return figures
