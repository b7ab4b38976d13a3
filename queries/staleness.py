"""Reads of an aggregate whose projection parked one of its events say so: ``X-Stale``.

A parked event leaves that aggregate's rows as they were before it (its later events are held
behind it), so the row is old, not wrong in itself; the header names the read tables that lag
(``X-Stale: orgs, memberships``) so a page can say "this may be out of date" instead of
serving it silently. The set of stale aggregates is small and read at most once a second.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from uuid import UUID

import asyncpg
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

HEADER = b"x-stale"
REFRESH_SECONDS = 1.0
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PROJECTOR = "projector:"


class StaleAggregates:
    """Which aggregates have an event parked by a projection, and which projections."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._stale: dict[UUID, list[str]] = {}
        self._read_at = -REFRESH_SECONDS
        self._lock = asyncio.Lock()

    async def projections_behind(self, ids: list[UUID]) -> list[str]:
        if time.monotonic() - self._read_at >= REFRESH_SECONDS:
            await self._refresh()
        return sorted({name for i in ids for name in self._stale.get(i, ())})

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._read_at < REFRESH_SECONDS:
                return  # another request refreshed it while this one waited
            try:
                async with self._pool.acquire() as conn:
                    rows = await conn.fetch(
                        "SELECT DISTINCT aggregate_id, worker FROM ops.parked "
                        "WHERE aggregate_id IS NOT NULL AND worker LIKE 'projector:%'"
                    )
            except Exception as error:  # PostgreSQL away: the route itself answers 503
                log.warning("stale aggregates not read: %s", error)
                return
            stale: dict[UUID, list[str]] = {}
            for r in rows:
                stale.setdefault(r["aggregate_id"], []).append(r["worker"][len(_PROJECTOR) :])
            self._stale = stale
            self._read_at = time.monotonic()


class MarkStale:
    """ASGI middleware: ``X-Stale`` on GET answers whose path names a stale aggregate."""

    def __init__(self, app: ASGIApp, stale: StaleAggregates) -> None:
        self._app = app
        self._stale = stale

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self._app(scope, receive, send)
            return
        ids = [UUID(found) for found in _UUID.findall(scope["path"])]
        behind = await self._stale.projections_behind(ids) if ids else []
        if not behind:
            await self._app(scope, receive, send)
            return
        value = ", ".join(behind).encode()

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
                message["headers"] = [*message.get("headers", []), (HEADER, value)]
            await send(message)

        await self._app(scope, receive, send_marked)
