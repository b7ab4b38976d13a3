"""Who the benchmark's requests come from.

The contract signs callers in with ``POST /api/auth/register`` then ``/api/auth/login`` and a
bearer token. Until that route exists the platform runs an open authenticator that takes the
caller's name from ``X-Photoflow-Actor``; a 404 on registration means that is still the case.

Every studio a user creates makes that user a member, and a request's authentication reads the
caller's memberships, so one user creating thousands of studios would make each request slower
than any real user's. The load is therefore spread over a pool of users.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Sequence

import orjson

from bench.http import HttpConnection

Headers = tuple[tuple[str, str], ...]
OPEN_ACTOR: Headers = (("X-Photoflow-Actor", "bench"),)


async def caller_headers(host: str, port: int) -> Headers:
    """Headers that authenticate one fresh benchmark user for every later request."""
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    password = secrets.token_urlsafe(18)
    conn = await HttpConnection.open(host, port)
    try:
        registered = await conn.request(
            "POST",
            "/api/auth/register",
            orjson.dumps({"email": email, "password": password, "name": "Bench"}),
        )
        if registered.status in (404, 405):
            return OPEN_ACTOR
        if registered.status != 201:
            raise RuntimeError(f"register answered {registered.status}: {registered.body[:300]!r}")
        login = await conn.request(
            "POST", "/api/auth/login", orjson.dumps({"email": email, "password": password})
        )
        if login.status != 200:
            raise RuntimeError(f"login answered {login.status}: {login.body[:300]!r}")
        token = orjson.loads(login.body)["access_token"]
    finally:
        await conn.close()
    return (("Authorization", f"Bearer {token}"),)


async def caller_pool(host: str, port: int, count: int) -> Sequence[Headers]:
    """``count`` signed-in users, registered a few at a time (password hashing is costly)."""
    gate = asyncio.Semaphore(4)

    async def one() -> Headers:
        async with gate:
            return await caller_headers(host, port)

    return await asyncio.gather(*(one() for _ in range(count)))
