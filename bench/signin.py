"""Sign-in paths: login then a first authenticated request, and refresh then a request.

Each pair runs on keep-alive connections from several clients against the real API process.
The baseline is the same two requests with every check skipped: two ``GET /api/health``
(no password hash, no token, no revocation or membership lookup), so the ratio is what
signing in and being checked costs over bare HTTP to the same process.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import orjson

from bench.http import HttpConnection
from bench.processes import serving
from bench.report import Figure, Latencies, say
from tests.support.world import World

NAME = "signin"
PASSWORD = "correct horse battery staple"
Pair = Callable[[HttpConnection, int], Awaitable[bool]]


async def pairs(
    host: str, port: int, clients: int, seconds: float, pair: Pair
) -> tuple[int, float, Latencies, int]:
    conns = [await HttpConnection.open(host, port) for _ in range(clients)]
    latencies: list[float] = []
    failed = 0

    async def client(n: int, conn: HttpConnection, deadline: float) -> None:
        nonlocal failed
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            if not await pair(conn, n):
                failed += 1
            latencies.append(time.perf_counter() - sent)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(client(n, c, started + seconds) for n, c in enumerate(conns)))
    finally:
        await asyncio.gather(*(c.close() for c in conns))
    return len(latencies), time.perf_counter() - started, Latencies(latencies), failed


async def run(world: World, quick: bool) -> list[Figure]:
    seconds, clients = (4.0, 4) if quick else (8.0, 8)
    host, port = world.settings.http_host, world.settings.http_port
    async with serving(world, "api", "bench-signin", healthy=False):
        setup = await HttpConnection.open(host, port)
        emails = [f"{uuid.uuid4().hex[:10]}@bench.example" for _ in range(clients)]
        refresh: list[str] = []
        for email in emails:
            await setup.request(
                "POST",
                "/api/auth/register",
                orjson.dumps({"email": email, "password": PASSWORD, "name": "Bench"}),
            )
            answer = await setup.request(
                "POST", "/api/auth/login", orjson.dumps({"email": email, "password": PASSWORD})
            )
            refresh.append(orjson.loads(answer.body)["refresh_token"])
        await setup.close()

        async def login_then_me(conn: HttpConnection, n: int) -> bool:
            answer = await conn.request(
                "POST", "/api/auth/login", orjson.dumps({"email": emails[n], "password": PASSWORD})
            )
            token = orjson.loads(answer.body)["access_token"]
            me = await conn.request(
                "GET", "/api/me", headers=[("Authorization", f"Bearer {token}")]
            )
            return answer.status == 200 and me.status == 200

        async def refresh_then_me(conn: HttpConnection, n: int) -> bool:
            answer = await conn.request(
                "POST", "/api/auth/refresh", orjson.dumps({"refresh_token": refresh[n]})
            )
            pair = orjson.loads(answer.body)
            refresh[n] = pair.get("refresh_token", refresh[n])
            me = await conn.request(
                "GET",
                "/api/me",
                headers=[("Authorization", f"Bearer {pair.get('access_token', '')}")],
            )
            return answer.status == 200 and me.status == 200

        async def bare(conn: HttpConnection, n: int) -> bool:
            first = await conn.request("GET", "/api/health")
            second = await conn.request("GET", "/api/health")
            return first.status in (200, 503) and second.status in (200, 503)

        figures = []
        base_count, base_seconds, base_lat, _ = await pairs(host, port, clients, seconds, bare)
        base_rate = base_count / base_seconds
        say(f"  baseline, two unchecked requests: {base_rate:,.0f} pairs/s, {base_lat.describe()}")
        for label, path in (
            ("login, then GET /api/me", login_then_me),
            ("refresh, then GET /api/me", refresh_then_me),
        ):
            count, took, lat, failed = await pairs(host, port, clients, seconds, path)
            rate = count / took
            say(f"  {label}: {rate:,.0f} pairs/s, {lat.describe()}, failed {failed}")
            if failed:
                raise RuntimeError(f"{label}: {failed} pairs failed")
            figures.append(
                Figure(
                    NAME,
                    f"{label}, {clients} clients",
                    rate,
                    "pairs/s",
                    "two unchecked GET /api/health",
                    base_rate,
                    detail=f"p99 {lat.p99_ms:.1f} ms (baseline p99 {base_lat.p99_ms:.1f} ms)",
                )
            )
    return figures
