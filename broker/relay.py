"""The relay: every recorded event, in notification order, onto its Kafka topic.

Commands only save; this worker follows each application's notification log and publishes.
Each message carries the contract's envelope as its body and, as headers, ``type`` and ``id``
and the CloudEvents Kafka binding's ``ce_*`` attributes (``broker.envelope.headers``; the parts
that depend only on the event type are encoded once per type). It stores its position after
Kafka has acknowledged a whole batch, so a crash between the two republishes at most one
batch: consumers drop duplicates by ``(aggregate_id, version)``. The
producer is idempotent with ``acks=all``, so a retried send never lands twice on its own.

Reading runs ahead of publishing: while one batch is handed to the producer, acknowledged and
its position stored, the next one is already being selected and built. A batch goes to the
producer only once the previous batch is acknowledged and stored, so each partition keeps the
log's order and at most one batch is ever sent but not yet stored; reading ahead only holds
a couple of built batches in memory (``READ_AHEAD``).

Reading is the rows of the events table, selected on the relay's LISTEN session, turned into
messages without domain-event objects (``broker.relay_envelopes``: the same bytes and headers
as the mapper and ``broker.envelope`` give). With a second core, the messages are built in a
child process (``broker.relay_process``), which also hashes each key for the producer's
partitioner, so this process mostly sends; when the child falls behind, until it is ready,
and on one core, batches are built in a thread here.

The eventsourcing recorder sends a PostgreSQL NOTIFY on the events table's channel in every
inserting transaction; the relay LISTENs on it so that a commit is published at once, and polls
slowly as a fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import zlib
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from eventsourcing.application import Application
from eventsourcing.postgres import PostgresApplicationRecorder

from broker.relay_copy import copy_query, last_position
from broker.relay_copy import rows as copied_rows
from broker.relay_envelopes import Batch, Message, MessageBuilder, Outgoing
from broker.relay_process import BuilderProcess, key_hash

log = logging.getLogger(__name__)

POSITIONS_DDL = """
CREATE SCHEMA IF NOT EXISTS relay;
CREATE TABLE IF NOT EXISTS relay.positions (
    source text PRIMARY KEY,
    position bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""


READ_AHEAD = 2
"""Batches read and built ahead of the one being published: one is built while another is
being sent (the builder process works while this one sends)."""
BUILDER_BACKLOG = 2
"""Batches the builder process may have waiting; beyond, a batch is built in this process
(which, while the builder is the slower, would otherwise wait for it)."""
YIELD_EVERY = 250
"""Messages handed to the producer between two turns of the event loop for everything else."""
GATHER_SECONDS = 0.01
"""After waking from idle, how long the commits of the next moment get to join the read.

At a light load each command's commit woke the relay for a read, a build, a send and a stored
position of its own, and each projection for a batch of its own: at 100 commands/s, 1.3 ms of
the relay's CPU and 2.5 ms of the projections' a command, against 0.9 and 1.6 with 20 ms of
gathering. With 10 ms, ``make bench freshness`` at 100 commands/s went from p99 171 ms to
120 ms (polling) and from 168 ms to 81 ms (token), at 20/s from 34 ms to 55 ms (polling). Under
load the relay never idles, so it never waits; at a light load it adds up to this much to
how soon a write is read."""


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
        self.channel = f"{self.name}_events"
        self.lock_key = zlib.crc32(f"relay:{self.name}".encode())
        self._app = app
        self._topic_prefix = topic_prefix
        self._builder = MessageBuilder(app, topic_prefix)
        table = _events_table(app)
        self._table = table
        self.head_query = f"SELECT max(notification_id) FROM {table}" if table else None
        """The select of ``head``, for the relay to ask all its sources in one round trip."""

    def read(self, after: int, limit: int) -> tuple[int, list[Outgoing]]:
        """The next notifications as Kafka messages, and the position they reach (blocking).

        Through the application's recorder, so any event store will do (the unit tests' is in
        memory); the relay itself uses ``fetch``.
        """
        notifications = self._app.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        rows = [
            (n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notifications
        ]
        messages = [Outgoing._make(m) for m in self._builder.build(rows)]
        return (notifications[-1].id if notifications else after), messages

    async def fetch(
        self,
        conn: asyncpg.Connection,
        after: int,
        limit: int,
        builder: BuilderProcess | None = None,
    ) -> Batch:
        """``read``, but as the relay reads (``fetch_ahead``), and waiting for the messages."""
        _, building = await self.fetch_ahead(conn, after, limit, builder)
        return await building

    async def fetch_ahead(
        self,
        conn: asyncpg.Connection,
        after: int,
        limit: int,
        builder: BuilderProcess | None = None,
    ) -> tuple[int, asyncio.Future[Batch]]:
        """The position the next rows reach at once, and their messages to come.

        The rows are selected on the relay's own connection (its LISTEN session): the
        recorder's pool would check its connection with a round trip before every select
        (pre-ping) and hand over dictionaries and ``Notification`` objects; the relay copies
        the five columns it needs, as PostgreSQL's binary COPY bytes, on the session it holds
        anyway (whose death it notices). The messages are built from those bytes by
        ``builder`` (another process) once it is ready: the next rows can then be selected
        while these are built. Else, or when the builder has ``BUILDER_BACKLOG`` batches to
        build already, they are built in a thread here (the future is done), so that Kafka's
        acknowledgements are still taken in meanwhile.
        """
        done: asyncio.Future[Batch] = asyncio.get_running_loop().create_future()
        if self._table is None:  # not PostgreSQL: through the recorder
            reached, messages = await asyncio.to_thread(self.read, after, limit)
            done.set_result(Batch(reached, messages))
            return reached, done
        chunks: list[bytes] = []

        async def take(chunk: bytes) -> None:
            chunks.append(chunk)

        query = copy_query(self._table, after, limit)
        status = await conn.copy_from_query(query, output=take, format="binary")
        if status == "COPY 0":
            done.set_result(Batch(after, []))
            return after, done
        data = b"".join(chunks)
        if builder is not None and builder.ready and builder.pending < BUILDER_BACKLOG:
            return last_position(data), builder.submit(self.name, data)
        # no builder, or it is behind: this process has time while it waits for it
        done.set_result(Batch(*await asyncio.to_thread(self.build, data)))
        return done.result().reached, done

    def build(self, data: bytes) -> tuple[int, list[Message], list[int]]:
        """The messages of a binary COPY of the source's rows, the position they reach, and
        their keys' hashes (cached per key, so cheaper than the producer's own hashing)."""
        found = copied_rows(data)
        messages = self._builder.build(found)
        return found[-1][0], messages, [key_hash(m[1]) for m in messages]

    @property
    def app(self) -> Application[UUID]:
        return self._app

    @property
    def topic_prefix(self) -> str:
        return self._topic_prefix

    @property
    def selects_rows(self) -> bool:
        """Whether ``fetch`` selects rows itself (PostgreSQL), which a builder process can build."""
        return self._table is not None

    def head(self) -> int:
        return self._app.recorder.max_notification_id() or 0


def _events_table(app: Application[UUID]) -> str | None:
    """``schema.table`` of the application's events, quoted; None if not PostgreSQL."""
    recorder = app.recorder
    if not isinstance(recorder, PostgresApplicationRecorder):
        return None
    return f"{_quoted(recorder.datastore.schema)}.{_quoted(recorder.events_table_name)}"


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class Relay:
    """Publishes each source's new events and keeps its position in ``relay.positions``."""

    def __init__(
        self,
        sources: Sequence[RelaySource],
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        batch_size: int,
        idle_poll_seconds: float = 0.5,
        builder: BuilderProcess | None = None,
        build_in_process: bool | None = None,
    ) -> None:
        """``builder``: a started builder process to use (its owner closes it); without one,
        ``run`` starts its own when ``build_in_process`` says so (by default: when this process
        may use two cores or more)."""
        self.sources = list(sources)
        self._pool = pool
        self._producer = producer
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self._builder = builder
        self._build_in_process = (
            build_in_process if build_in_process is not None else _usable_cores() >= 2
        )
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
        builder, starting = self._builder, None
        if builder is None and self._build_in_process and any(s.selects_rows for s in self.sources):
            builder = builder_for(self.sources)
            # the sources are followed at once: batches are built here until the child answers
            starting = asyncio.create_task(_start_quietly(builder))
        tasks = [asyncio.create_task(self._follow(source, builder)) for source in self.sources]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for follower in done:
                follower.result()
        finally:
            for follower in tasks:
                follower.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if starting is not None and builder is not None:
                starting.cancel()
                await asyncio.gather(starting, return_exceptions=True)
                await builder.close()

    async def lag(self) -> int:
        """Events recorded but not yet published, over all sources.

        Asked every heartbeat: on PostgreSQL, one select of every source's head on the
        relay's pool (the recorders would each check a connection first, from a thread).
        """
        queries = [s.head_query for s in self.sources]
        if all(queries):
            async with self._pool.acquire() as conn:
                found = await conn.fetchrow("SELECT " + ", ".join(f"({q})" for q in queries))
            heads = [int(value or 0) for value in found or ()]
        else:
            heads = await asyncio.gather(*(asyncio.to_thread(s.head) for s in self.sources))
        behind = zip(self.sources, heads, strict=True)
        return sum(max(0, head - self.positions.get(s.name, 0)) for s, head in behind)

    async def _follow(self, source: RelaySource, builder: BuilderProcess | None) -> None:
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
            ahead: asyncio.Queue[asyncio.Future[Batch]] = asyncio.Queue(READ_AHEAD)
            reading = asyncio.create_task(
                self._read_ahead(source, listener, builder, wake, position, ahead)
            )
            publishing: asyncio.Task[None] | None = None
            try:
                while True:
                    if publishing is not None and ahead.empty():
                        # nothing read yet: store the last batch's position now, not at the next
                        await publishing
                        publishing = None
                    batch = await (await _next_batch(ahead, reading))
                    if publishing is not None:  # the last batch: acknowledged and stored
                        await publishing
                        publishing = None
                    sends = await self._send(batch.messages, batch.key_hashes)
                    publishing = asyncio.create_task(
                        self._confirm(source.name, sends, batch.reached, len(batch.messages))
                    )
            finally:
                for task in (reading, publishing):
                    if task is not None:
                        task.cancel()
                        await asyncio.gather(task, return_exceptions=True)
        finally:
            # Closing the session frees its lock and listener whatever state it is in (PostgreSQL
            # may have just restarted); the pool opens a fresh connection in its place.
            listener.terminate()
            await self._pool.release(listener)

    async def _read_ahead(
        self,
        source: RelaySource,
        listener: asyncpg.Connection,
        builder: BuilderProcess | None,
        wake: asyncio.Event,
        position: int,
        ahead: asyncio.Queue[asyncio.Future[Batch]],
    ) -> None:
        """Read the source's batches in order into ``ahead`` (``READ_AHEAD`` wait there at most,
        built or being built)."""
        while True:
            wake.clear()
            reached, building = await source.fetch_ahead(
                listener, position, self._batch_size, builder
            )
            if reached == position:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self._idle_poll)
                    await asyncio.sleep(GATHER_SECONDS)
                if listener.is_closed():  # killed or restarted: no wake-ups, no lock
                    raise ConnectionResetError(f"{source.name}: the LISTEN session ended")
                continue
            await ahead.put(building)
            position = reached

    async def _send(
        self, outgoing: Sequence[Message], key_hashes: Sequence[int] | None = None
    ) -> list[asyncio.Future[Any]]:
        """Hand the batch to the producer, in order; the futures of Kafka's acknowledgements.

        With ``key_hashes`` (and the producer's default partitioner), each message's partition
        is the one that partitioner would pick, ``partitions[hash % len(partitions)]`` over the
        topic's partitions as the producer knows them, so the producer does not hash the key
        again (a pure-Python murmur2: a quarter of a send). ``send`` rarely waits, so a batch
        would hold the event loop for tens of milliseconds: every ``YIELD_EVERY`` messages the
        loop gets a turn, to take in the next batch's rows and built messages and the
        acknowledgements meanwhile (the topics' partitions are looked up again after it).
        """
        producer = self._producer
        send = producer.send
        if not isinstance(getattr(producer, "_partitioner", None), DefaultPartitioner):
            key_hashes = None
        cluster = producer.client.cluster
        partitions: dict[str, list[int]] = {}
        sends: list[asyncio.Future[Any]] = []
        for i, (topic, key, value, headers) in enumerate(outgoing):
            partition = None
            if key_hashes is not None:
                known = partitions.get(topic)
                if known is None:
                    known = partitions[topic] = list(cluster.partitions_for_topic(topic) or ())
                if known:  # else not known yet: the producer waits for it and picks itself
                    partition = known[key_hashes[i] % len(known)]
            sends.append(await send(topic, value, key=key, partition=partition, headers=headers))
            if not (i + 1) % YIELD_EVERY:
                await asyncio.sleep(0)
                partitions.clear()
        return sends

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
        """Store the position without waiting for its fsync (``synchronous_commit`` off for
        this one statement): a position lost with a PostgreSQL crash only republishes what
        follows it, which consumers drop as duplicates; the wait cost a flush per batch, at a
        light load a flush per command."""
        async with self._pool.acquire() as conn:
            await conn.execute(
                "WITH unsynced AS (SELECT set_config('synchronous_commit', 'off', true)) "
                "INSERT INTO relay.positions (source, position) SELECT $1, $2 FROM unsynced "
                "ON CONFLICT (source) DO UPDATE SET position = EXCLUDED.position, "
                "updated_at = now()",
                source,
                position,
            )


def builder_for(sources: Sequence[RelaySource]) -> BuilderProcess:
    """A builder process (not started) for the sources whose rows the relay selects itself."""
    return BuilderProcess([(s.name, s.app, s.topic_prefix) for s in sources if s.selects_rows])


async def _start_quietly(builder: BuilderProcess) -> None:
    """Start the builder; if it cannot start, the relay keeps building in its own process."""
    try:
        await builder.start()
    except Exception:
        log.exception("relay: the builder process did not start; building in this process")


async def _next_batch(
    ahead: asyncio.Queue[asyncio.Future[Batch]], reading: asyncio.Task[None]
) -> asyncio.Future[Batch]:
    """The next batch read ahead, or the reader's failure."""
    if not ahead.empty():
        return ahead.get_nowait()
    getting = asyncio.ensure_future(ahead.get())
    try:
        await asyncio.wait({getting, reading}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not getting.done():
            getting.cancel()
    if getting.done() and not getting.cancelled():
        return getting.result()
    reading.result()  # raises what stopped the reader
    raise RuntimeError("the relay's reader stopped")


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
