"""The relay: every recorded event, in notification order, onto its Kafka topic.

Commands only save; this worker follows each application's notification log and publishes.
Each message carries the contract's envelope as its body and, as headers, ``type`` and ``id``
and the CloudEvents Kafka binding's ``ce_*`` attributes (``broker.envelope.headers``; the parts
that depend only on the event type are encoded once per type). It stores its position after
Kafka has acknowledged a whole batch, so a crash between the two republishes at most one
batch: consumers drop duplicates by ``(aggregate_id, version)``. The
producer is idempotent with ``acks=all``, so a retried send never lands twice on its own.

Reading overlaps publishing: while Kafka acknowledges one batch and its position is stored,
the next batch is already being read from the log (in a thread). Its messages go to the
producer only once the previous batch is acknowledged and stored, so each partition keeps the
log's order and at most one batch is ever sent but not yet stored.

The eventsourcing recorder sends a PostgreSQL NOTIFY on the events table's channel in every
inserting transaction; the relay LISTENs on it so that a commit is published at once, and polls
slowly as a fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaProducer
from eventsourcing.application import Application
from eventsourcing.domain import AggregateEvent

from broker.envelope import describe, encode, headers, integration_copy
from broker.topics import INTEGRATION_EVENTS, stream_of

log = logging.getLogger(__name__)

POSITIONS_DDL = """
CREATE SCHEMA IF NOT EXISTS relay;
CREATE TABLE IF NOT EXISTS relay.positions (
    source text PRIMARY KEY,
    position bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""


@dataclass(frozen=True)
class Outgoing:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def make_producer(bootstrap: str) -> AIOKafkaProducer:
    """Idempotent, fully acknowledged, batching: no event lost, none doubled by a retry."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        max_batch_size=512 * 1024,
        request_timeout_ms=30_000,
    )


class RelaySource:
    """One application's notification log, read in order from a stored position."""

    def __init__(self, app: Application[UUID], topic_prefix: str = "") -> None:
        self.name = app.name.lower()
        self._topic_prefix = topic_prefix
        self.channel = f"{self.name}_events"
        self.lock_key = zlib.crc32(f"relay:{self.name}".encode())
        self._app = app

    def read(self, after: int, limit: int) -> tuple[int, list[Outgoing]]:
        """The next notifications as Kafka messages, and the position they reach (blocking)."""
        notifications = self._app.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        outgoing: list[Outgoing] = []
        for notification in notifications:
            event = self._app.mapper.to_domain_event(notification)
            if not isinstance(event, AggregateEvent):  # a snapshot: not part of the history
                continue
            stream = stream_of(event)
            if stream is None:  # an internal aggregate, such as a uniqueness index
                continue
            fields = describe(event, stream)
            key = str(event.originator_id).encode()
            outgoing.append(self._message(stream.topic, key, fields))
            integration = INTEGRATION_EVENTS.get(fields["type"])
            if integration is not None:
                topic, renamed = integration
                outgoing.append(self._message(topic, key, integration_copy(fields, renamed)))
        return (notifications[-1].id if notifications else after), outgoing

    def _message(self, topic: str, key: bytes, fields: dict[str, Any]) -> Outgoing:
        return Outgoing(
            topic=self._topic_prefix + topic,
            key=key,
            value=encode(fields),
            headers=headers(fields, key),
        )

    def head(self) -> int:
        return self._app.recorder.max_notification_id() or 0


class Relay:
    """Publishes each source's new events and keeps its position in ``relay.positions``."""

    def __init__(
        self,
        sources: Sequence[RelaySource],
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        batch_size: int,
        idle_poll_seconds: float = 0.5,
    ) -> None:
        self.sources = list(sources)
        self._pool = pool
        self._producer = producer
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self.positions: dict[str, int] = {}
        self.published = 0

    async def run(self) -> None:
        """Follow every source until cancelled; if one fails, stop them all (to be restarted).

        Not ``gather``: a follower left running after its sibling failed would keep its
        source's advisory lock, and the restarted relay would wait on it forever. Every
        follower is cancelled and awaited on the way out, whatever the way out is.
        """
        async with self._pool.acquire() as conn:
            await conn.execute(POSITIONS_DDL)
        followers = [asyncio.create_task(self._follow(source)) for source in self.sources]
        try:
            done, _ = await asyncio.wait(followers, return_when=asyncio.FIRST_EXCEPTION)
            for follower in done:
                follower.result()
        finally:
            for follower in followers:
                follower.cancel()
            await asyncio.gather(*followers, return_exceptions=True)

    async def lag(self) -> int:
        """Events recorded but not yet published, over all sources."""
        heads = await asyncio.gather(*(asyncio.to_thread(s.head) for s in self.sources))
        behind = zip(self.sources, heads, strict=True)
        return sum(max(0, head - self.positions.get(s.name, 0)) for s, head in behind)

    async def _follow(self, source: RelaySource) -> None:
        wake = asyncio.Event()

        def on_notify(*_: object) -> None:
            wake.set()

        listener = await self._pool.acquire()
        try:
            # One relay per source at a time: a second one (another `make run`, a standby) waits
            # here until the first one's connection ends, rather than racing it on the position.
            await listener.execute("SELECT pg_advisory_lock($1)", source.lock_key)
            await listener.add_listener(source.channel, on_notify)
            position = await self._load_position(source.name)
            self.positions[source.name] = position
            publishing: asyncio.Task[None] | None = None
            try:
                while True:
                    wake.clear()
                    reached, outgoing = await asyncio.to_thread(
                        source.read, position, self._batch_size
                    )
                    if publishing is not None:  # the last batch: acknowledged and stored
                        await publishing
                        publishing = None
                    if reached == position:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(wake.wait(), self._idle_poll)
                        if listener.is_closed():  # killed or restarted: no wake-ups, no lock
                            raise ConnectionResetError(f"{source.name}: the LISTEN session ended")
                        continue
                    sends = await self._send(outgoing)
                    publishing = asyncio.create_task(
                        self._confirm(source.name, sends, reached, len(outgoing))
                    )
                    position = reached
            finally:
                if publishing is not None:
                    publishing.cancel()
                    await asyncio.gather(publishing, return_exceptions=True)
        finally:
            # Closing the session frees its lock and listener whatever state it is in (PostgreSQL
            # may have just restarted); the pool opens a fresh connection in its place.
            listener.terminate()
            await self._pool.release(listener)

    async def _send(self, outgoing: list[Outgoing]) -> list[asyncio.Future[Any]]:
        """Hand the batch to the producer, in order; the futures of Kafka's acknowledgements."""
        send = self._producer.send
        return [await send(m.topic, m.value, key=m.key, headers=m.headers) for m in outgoing]

    async def _confirm(
        self, source: str, sends: list[asyncio.Future[Any]], reached: int, count: int
    ) -> None:
        """Once Kafka acknowledged every message of the batch, store the position it reached."""
        await asyncio.gather(*sends)
        await self._save_position(source, reached)
        self.positions[source] = reached
        self.published += count

    async def _load_position(self, source: str) -> int:
        async with self._pool.acquire() as conn:
            value = await conn.fetchval(
                "SELECT position FROM relay.positions WHERE source = $1", source
            )
        return int(value or 0)

    async def _save_position(self, source: str, position: int) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO relay.positions (source, position) VALUES ($1, $2) "
                "ON CONFLICT (source) DO UPDATE SET position = EXCLUDED.position, "
                "updated_at = now()",
                source,
                position,
            )
