"""Live streams: how long after a command's answer its event reaches every open SSE stream.

The whole platform runs in one subprocess (``python -m infra run``), so one API process serves
every stream through its one Kafka reader. A pool of users each has a studio and opens an equal
share of the streams; commands (an album created in the user's studio) arrive open-loop at a
steady rate, and each 201's event is timed on every stream of that user. The baseline is the
same event reaching a plain Kafka consumer of the topic in this process (the relay's leg alone),
so the ratio shows what the fan-out to the streams adds on top.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import orjson

from bench.auth import Headers, caller_pool
from bench.http import HttpPool
from bench.processes import serving
from bench.report import Figure, Latencies, client_gc_paused, say
from bench.tail import KafkaTail
from broker.topics import ALBUMS
from tests.support.world import World

NAME = "stream"
GOAL_P99_MS = 200.0
USERS = 20
GIVE_UP_SECONDS = 10.0


@dataclass(frozen=True)
class Sizes:
    streams: int
    rate: float
    seconds: float


def sizes(quick: bool) -> Sizes:
    return Sizes(100, 100.0, 3.0) if quick else Sizes(500, 100.0, 10.0)


class RawStream:
    """One SSE connection read line by line, as cheaply as a client can: the receipt time of
    every message, by the aggregate it is about."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self.seen: dict[str, float] = {}

    @classmethod
    async def open(cls, host: str, port: int, path: str) -> RawStream:
        reader, writer = await asyncio.open_connection(host, port, limit=2**22)
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"stream answered {status!r}")
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        while not (await reader.readline()).startswith(b"retry:"):
            pass  # subscribed: nothing from here on is missed
        return cls(reader, writer)

    async def follow(self) -> None:
        while line := await self._reader.readline():
            if line.startswith(b"data: "):
                now = time.perf_counter()
                self.seen.setdefault(str(orjson.loads(line[6:])["aggregate_id"]), now)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


@dataclass
class Phase:
    answered: dict[str, tuple[float, int]] = field(default_factory=dict)
    """album id -> (when its 201 came, the user who sent it)"""
    commands: list[float] = field(default_factory=list)
    failures: int = 0
    late: float = 0.0


async def open_loop(
    pool: HttpPool, users: list[tuple[Headers, str]], rate: float, seconds: float
) -> Phase:
    phase = Phase()

    async def one(i: int) -> None:
        headers, org_id = users[i % len(users)]
        body = orjson.dumps({"title": f"Live {i}", "client": {"name": "C", "email": "c@x.io"}})
        sent = time.perf_counter()
        try:
            answer = await asyncio.wait_for(
                pool.request("POST", f"/api/orgs/{org_id}/albums", body, headers),
                GIVE_UP_SECONDS,
            )
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            phase.failures += 1
            return
        answered = time.perf_counter()
        phase.commands.append(answered - sent)
        if answer.status != 201:
            phase.failures += 1
            return
        phase.answered[str(orjson.loads(answer.body)["album_id"])] = (answered, i % len(users))

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


async def studio_of(pool: HttpPool, headers: Headers, n: int) -> str:
    """A new studio of the user, visible to its memberships (a stream reads them once)."""
    created = await pool.request("POST", "/api/orgs", orjson.dumps({"name": f"Live {n}"}), headers)
    if created.status != 201:
        raise RuntimeError(f"create studio answered {created.status}")
    written = orjson.loads(created.body)
    token = ("X-Consistency-Token", written["consistency_token"])
    seen = await pool.request("GET", f"/api/orgs/{written['org_id']}", b"", (*headers, token))
    if seen.status != 200:
        raise RuntimeError(f"studio not visible: {seen.status}")
    return str(written["org_id"])


async def run(world: World, quick: bool) -> list[Figure]:
    size = sizes(quick)
    settings = world.settings
    host, port = settings.http_host, settings.http_port
    async with serving(world, "run", log_name="bench-stream-run", healthy=True):
        pool = HttpPool(host, port)
        streams: list[tuple[int, RawStream]] = []
        followers: list[asyncio.Task[None]] = []
        try:
            callers = list(await caller_pool(host, port, USERS))
            users = [(h, await studio_of(pool, h, n)) for n, h in enumerate(callers)]
            opened = time.perf_counter()
            for n in range(size.streams):
                headers = users[n % USERS][0]
                answer = await pool.request("POST", "/api/stream-tokens", b"", headers)
                token = orjson.loads(answer.body)["stream_token"]
                streams.append(
                    (n % USERS, await RawStream.open(host, port, f"/api/stream?token={token}"))
                )
            say(f"  {size.streams} streams open in {time.perf_counter() - opened:.1f} s")
            followers = [asyncio.create_task(s.follow()) for _, s in streams]
            async with KafkaTail(settings.kafka_bootstrap, world.topic(ALBUMS.topic)) as tail:
                await open_loop(pool, users, size.rate, 1.0)  # warm-up
                phase = await open_loop(pool, users, size.rate, size.seconds)
                await asyncio.sleep(2.0)  # the last events reach every stream
        finally:
            for task in followers:
                task.cancel()
            await asyncio.gather(*followers, return_exceptions=True)
            await asyncio.gather(*(s.close() for _, s in streams), return_exceptions=True)
            await pool.close()
    on_stream: list[float] = []
    lost = 0
    for album_id, (answered, user) in phase.answered.items():
        for owner, stream in streams:
            if owner != user:
                continue
            if album_id in stream.seen:
                on_stream.append(stream.seen[album_id] - answered)
            else:
                lost += 1
    on_kafka = Latencies(
        [tail.first_seen[a] - t for a, (t, _) in phase.answered.items() if a in tail.first_seen]
    )
    latency = Latencies(on_stream)
    say(
        f"  {size.rate:g} commands/s over {size.streams} streams: 201 -> event on every stream of "
        f"its studio {latency.describe()} ({len(on_stream)} deliveries, {lost} missing); "
        f"201 -> on Kafka {on_kafka.describe()}; POST p99 {Latencies(phase.commands).p99_ms:.1f} "
        f"ms; failures {phase.failures}; schedule slip max {phase.late * 1000:.1f} ms"
    )
    return [
        Figure(
            NAME,
            f"SSE p99, 201 -> event on {size.streams} streams, {size.rate:g} commands/s",
            latency.p99_ms,
            "ms",
            "p99 201 -> event seen by a plain Kafka consumer, same run",
            on_kafka.p99_ms,
            goal=f"p99 < {GOAL_P99_MS:g} ms",
            met=latency.p99_ms < GOAL_P99_MS and lost == 0 and phase.failures == 0,
            detail=f"p50 {latency.p50_ms:.1f} ms vs {on_kafka.p50_ms:.1f} ms on Kafka; "
            f"{len(on_stream)} deliveries, {lost} missing; failures {phase.failures}",
        )
    ]
