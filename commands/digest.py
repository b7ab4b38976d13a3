"""The client-activity digest: per album and period, one mail to the photographer.

Every ``period`` the digest looks at the period that has just closed and hands the Sender one
AlbumActivityDigest per album that received client comments in it. The digest's id is derived
from the album and the period, so a restart that looks at the same period again sends nothing
twice (the Sender keeps one delivery per id). Periods that closed while no Sender ran are not
sent late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid5

from broker.envelope import Envelope, Event
from commands.sender import ALBUM_DIGEST

log = logging.getLogger(__name__)

DIGEST_NAMESPACE = UUID("9d1c0f3a-52e4-4b7b-8a3c-5e2f1c7d9b40")
AlbumsWithComments = Callable[[datetime, datetime], Awaitable[list[tuple[UUID, UUID]]]]
"""(album id, studio id) of the albums with client comments in [start, end)."""
Handle = Callable[[Event], Awaitable[None]]


def closed_period(now: datetime, period: timedelta) -> tuple[datetime, datetime]:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    end = epoch + ((now - epoch) // period) * period
    return end - period, end


async def send_digests(
    handle: Handle, albums: AlbumsWithComments, start: datetime, end: datetime
) -> int:
    sent = 0
    for album_id, org_id in await albums(start, end):
        envelope = Envelope.model_validate(
            {
                "id": uuid5(DIGEST_NAMESPACE, f"{album_id}:{start.isoformat()}"),
                "type": ALBUM_DIGEST,
                "stream": "albums",
                "aggregate_id": album_id,
                "version": 1,
                "org_id": org_id,
                "occurred_at": end,
                "schema": 1,
                "actor": "digest",
                "data": {"start": start.isoformat(), "end": end.isoformat()},
            }
        )
        await handle(envelope)
        sent += 1
    return sent


async def digest_forever(handle: Handle, albums: AlbumsWithComments, period: timedelta) -> None:
    """At the close of every period (plus a moment for late projections), send its digests."""
    while True:
        start, end = closed_period(datetime.now(UTC), period)
        try:
            await send_digests(handle, albums, start, end)
        except Exception:  # the next period tries again; the Sender never sends one twice
            log.exception("digest for %s..%s failed", start, end)
        next_close = end + period + min(period / 10, timedelta(seconds=2))
        await asyncio.sleep(max(0.1, (next_close - datetime.now(UTC)).total_seconds()))
