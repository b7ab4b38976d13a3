"""One batch of Kafka records into a projection, in one PostgreSQL transaction.

The live worker and the rebuild both come through here, so a rebuilt table is made by the very
code that keeps it up to date. An aggregate with a parked event (``broker.parking``) has its
later events parked behind it, in the same transaction that moves the offsets past them, so its
rows are never patched out of order; ``apply_parked`` replays them once the cause is fixed.

Decoding happens before the transaction (``decode_records``, with the fast decoder), so a
worker can decode the next batch while PostgreSQL writes the last one.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Protocol, TypeVar
from uuid import UUID

import asyncpg
from aiokafka import ConsumerRecord, TopicPartition

from broker.envelope import Event, decode, decode_fast
from broker.failure_policy import message_of
from broker.parking import ParkingLot, held_aggregates
from infra.supervisor import StartAgain
from projections import positions
from projections.base import Projection


class AppliedRecord(Protocol):
    """What applying needs of a Kafka record: a live worker's aiokafka ``ConsumerRecord``, or
    a replay's lighter ``broker.partition_reader.Record``."""

    @property
    def offset(self) -> int: ...

    @property
    def value(self) -> bytes | None: ...


Records = Mapping[TopicPartition, Sequence[AppliedRecord]]
Decoded = Mapping[TopicPartition, Sequence[Event | None]]
"""Each record's envelope, in the records' order; None where it did not decode ahead."""
HELD = "held: an earlier event of this aggregate is parked"
PIPELINE_DEPTH = 3
"""Decoded batches waiting for the writer: enough to keep it busy, bounded for memory."""

T = TypeVar("T")


def rebuild_lock_key(projection: str) -> int:
    """An advisory lock id per projection: live batches share it, a rebuild holds it alone."""
    return zlib.crc32(f"projection:{projection}".encode())


DECODE_SLICE = 500
"""Records decoded between two yields to the event loop, so a writer waiting on PostgreSQL
gets its answer handled (and sends its next statement) while a large batch decodes."""


async def decode_records(records: Records) -> dict[TopicPartition, list[Event | None]]:
    """Every record's envelope, decoded outside any transaction.

    A record that does not decode (or has no value) gets None: ``apply_records`` decodes it
    again, and fails there, only if the record is still to be applied.
    """
    decoded: dict[TopicPartition, list[Event | None]] = {}
    for tp, batch in records.items():
        envelopes: list[Event | None] = []
        for start in range(0, len(batch), DECODE_SLICE):
            if start:
                await asyncio.sleep(0)
            for record in batch[start : start + DECODE_SLICE]:
                try:
                    envelopes.append(decode_fast(record.value) if record.value else None)
                except Exception:
                    envelopes.append(None)
        decoded[tp] = envelopes
    return decoded


ASYNC_COMMIT = "set_config('synchronous_commit', 'off', true)"
"""A projection's transaction does not wait for its WAL to reach the disk.

Its rows and its offsets commit together, so a PostgreSQL crash can lose only the last few
milliseconds of both. A worker that lived through it finds its next batch starting past the
stored offsets (``OffsetsBehind``) and starts again from them; one that restarts seeks to them.
Either way it applies those events again, which ``keep_unseen`` makes harmless. Waiting for an
fsync per batch (two or three per command at a light load, one per read table) only made reads
later and PostgreSQL busier.
"""


@asynccontextmanager
async def batch_transaction(conn: asyncpg.Connection, opening: str) -> AsyncIterator[None]:
    """A transaction whose ``BEGIN`` travels with its first statement (no arguments).

    A live worker's batch is a handful of events at a light load, and every round trip costs
    about as much CPU as the work: asyncpg's ``transaction()`` sends ``BEGIN`` alone. A failure
    rolls back; if even that fails, the pool rolls back when the connection comes back to it.
    """
    try:
        await conn.execute(f"BEGIN; {opening}")
        yield
    except BaseException:
        if not conn.is_closed():
            with suppress(Exception):
                await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")


class OffsetsBehind(StartAgain):
    """The stored offsets are behind the batch: events between them were never applied.

    A PostgreSQL crash lost the last commits (see ``ASYNC_COMMIT``), or another process of the
    projection had the partition meanwhile. The batch is not applied; the worker must read
    again from the stored offsets.
    """


async def apply_records(
    pool: asyncpg.Pool,
    projection: Projection,
    records: Records,
    *,
    decoded: Decoded | None = None,
    rebuilding: positions.Seen | None = None,
    parking: ParkingLot | None = None,
) -> int:
    """Apply the records not yet consumed; return how many events were new to the projection.

    ``decoded`` holds the records' envelopes when they were decoded ahead (``decode_records``).
    ``rebuilding`` is a rebuild's own record of the versions it applied (its tables started
    empty, and it holds the projection's lock alone), used instead of looking them up.
    With ``parking``, events of aggregates that already have a parked event are parked too.
    """
    if not any(records.values()):
        return 0
    # Live batches share the projection's lock; a rebuild holds it alone, for the whole replay.
    lock = f"pg_advisory_xact_lock_shared({rebuild_lock_key(projection.name)}), "
    opening = f"SELECT {lock if rebuilding is None else ''}{ASYNC_COMMIT}"
    async with pool.acquire() as conn, batch_transaction(conn, opening):
        keys = [(tp.topic, tp.partition) for tp in records]
        consumed = await positions.lock_offsets(conn, projection.name, keys)
        fresh: list[tuple[AppliedRecord, Event]] = []
        reached: dict[positions.TopicPartitionKey, int] = {}
        for tp, batch in records.items():
            start = consumed[(tp.topic, tp.partition)]
            if rebuilding is None and batch and batch[0].offset > start:
                raise OffsetsBehind(
                    f"projection {projection.name}: {tp.topic}[{tp.partition}] is stored at "
                    f"offset {start}, the batch starts at {batch[0].offset}"
                )
            ahead = decoded.get(tp) if decoded is not None else None
            for i, record in enumerate(batch):
                if record.offset >= start and record.value:
                    envelope = ahead[i] if ahead is not None else None
                    if envelope is None:
                        envelope = decode(record.value)
                    fresh.append((record, envelope))
            if batch and batch[-1].offset >= start:
                reached[(tp.topic, tp.partition)] = batch[-1].offset + 1
        if not reached:
            return 0
        if rebuilding is None and parking is not None and fresh:
            # a live worker's usual case: which aggregates are held and which versions each
            # has reached, asked in one round trip
            ids = list({e.aggregate_id for _, e in fresh})
            seen, held = await positions.seen_and_held(conn, projection.name, parking.worker, ids)
            fresh = await _park_held(conn, parking, fresh, held)
            new = positions.newer_than(seen, [envelope for _, envelope in fresh])
        elif rebuilding is None:
            new = await positions.keep_unseen(conn, projection.name, [e for _, e in fresh])
        else:  # the tables started empty: the versions applied are the ones this rebuild saw
            if parking is not None and fresh:
                ids = list({e.aggregate_id for _, e in fresh})
                held = await held_aggregates(conn, parking.worker, ids)
                fresh = await _park_held(conn, parking, fresh, held)
            new = positions.newer_than(rebuilding, [envelope for _, envelope in fresh])
        if new:
            await projection.apply(conn, new)
        await positions.record_progress(conn, projection.name, new, reached)
        return len(new)


async def _park_held(
    conn: asyncpg.Connection,
    parking: ParkingLot,
    fresh: list[tuple[AppliedRecord, Event]],
    held: set[UUID],
) -> list[tuple[AppliedRecord, Event]]:
    """Park the events of aggregates that already have a parked event; the others go on."""
    if not held:
        return fresh
    kept = []
    for record, envelope in fresh:
        if envelope.aggregate_id in held:
            # only a live worker parks, and its records are aiokafka's, headers and all
            assert isinstance(record, ConsumerRecord)
            await parking.park(message_of(record), HELD, 0, conn)
        else:
            kept.append((record, envelope))
    return kept


async def take(queue: asyncio.Queue[T | None], fetcher: asyncio.Task[None]) -> T | None:
    """The next item a fetcher queued (None: it has no more); its own error if it failed."""
    getting = asyncio.ensure_future(queue.get())
    await asyncio.wait({getting, fetcher}, return_when=asyncio.FIRST_COMPLETED)
    if not getting.done() and fetcher.exception() is not None:
        getting.cancel()
        fetcher.result()  # raises what stopped it
    return await getting  # a fetcher that ended without an error queued None last


Fetched = tuple[Records, Decoded]


def joined(batches: Sequence[Fetched]) -> Fetched:
    """Consecutive fetched batches as one, each partition's records (and envelopes) in order."""
    if len(batches) == 1:
        return batches[0]
    records: dict[TopicPartition, list[AppliedRecord]] = {}
    decoded: dict[TopicPartition, list[Event | None]] = {}
    for batch_records, batch_decoded in batches:
        for tp, some in batch_records.items():
            records.setdefault(tp, []).extend(some)
            decoded.setdefault(tp, []).extend(batch_decoded.get(tp) or [None] * len(some))
    return records, decoded


def contiguous(batches: Sequence[Fetched]) -> int:
    """How many of the batches, from the first, continue one another: each partition's records
    start right after where the batches before left it. A batch that does not (the consumer
    sought elsewhere after a rebalance) starts a transaction of its own, so ``apply_records``
    still compares its first offset with the stored one and refuses a gap."""
    reached: dict[TopicPartition, int] = {}
    for count, (records, _) in enumerate(batches):
        for tp, some in records.items():
            if some and tp in reached and some[0].offset != reached[tp]:
                return count
        for tp, some in records.items():
            if some:
                reached[tp] = some[-1].offset + 1
    return len(batches)


async def apply_parked(
    conn: asyncpg.Connection, projection: Projection, events: Sequence[Event]
) -> int:
    """Apply parked events (in the caller's transaction), skipping versions already applied."""
    new = await positions.keep_unseen(conn, projection.name, events)
    if new:
        await projection.apply(conn, new)
        await positions.record_versions(conn, projection.name, new)
    return len(new)
