"""Rebuild: drop a projection's tables and replay its topics from the first event.

The rebuild holds the projection's advisory lock alone, so live workers of the same projection
pause rather than write into tables being rebuilt, and carry on from its offsets afterwards.

Fetching, decoding and writing overlap: one task reads Kafka and decodes each batch into
small bounded queues, one per writer, while the writers apply the batches before it, one
transaction each. Each partition belongs to one writer, which applies its records in the
order fetched: an aggregate's events share a partition, so they still apply in version order,
while two writers keep PostgreSQL busy on one batch as Python prepares the other.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from tqdm import tqdm

from broker.admin import partitions_of
from infra.pg_sessions import session_lock
from projections import positions
from projections.applier import (
    PIPELINE_DEPTH,
    Decoded,
    Records,
    apply_records,
    decode_records,
    rebuild_lock_key,
)
from projections.base import Projection

Fetched = tuple[Records, Decoded]
WRITERS = 2
"""Transactions in flight at once, each on its own partitions."""


@dataclass(frozen=True)
class RebuildReport:
    projection: str
    events: int
    applied: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def rebuild(
    projection: Projection,
    pool: asyncpg.Pool,
    bootstrap: str,
    batch_size: int,
    *,
    topic_prefix: str = "",
    progress: bool = True,
) -> RebuildReport:
    """Replay every event up to the topics' current end; show a progress bar if asked."""
    started = time.perf_counter()
    async with session_lock(pool, rebuild_lock_key(projection.name), wait=True):
        async with pool.acquire() as conn, conn.transaction():
            await positions.create_schema(conn)
            await projection.drop_tables(conn)
            await positions.forget(conn, projection.name)
            await projection.create_tables(conn)
        events, applied = await _replay(
            projection, pool, bootstrap, batch_size, topic_prefix, progress
        )
    return RebuildReport(projection.name, events, applied, time.perf_counter() - started)


async def _replay(
    projection: Projection,
    pool: asyncpg.Pool,
    bootstrap: str,
    batch_size: int,
    topic_prefix: str,
    progress: bool,
) -> tuple[int, int]:
    # No group and "earliest": an assigned partition starts at its first offset. (An explicit
    # seek_to_beginning right after assign() races with aiokafka's fetcher and can skip all.)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=32 * 1024 * 1024,
    )
    await consumer.start()
    try:
        topics = [topic_prefix + t for t in projection.topics]
        partitions = await partitions_of(bootstrap, topics)
        if not partitions:
            return 0, 0
        consumer.assign(partitions)
        first = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if end[tp] > first[tp]}
        total = sum(end[tp] - first[tp] for tp in partitions)
        events = applied = 0
        seen: positions.Seen = {}  # aggregate -> version applied, across batches
        # By partition number: an aggregate's key picks the same number on each of the topics.
        writer_of = {tp: tp.partition % WRITERS for tp in partitions}
        queues: list[asyncio.Queue[Fetched | None]] = [
            asyncio.Queue(PIPELINE_DEPTH) for _ in range(WRITERS)
        ]

        async def fetch() -> None:
            while remaining:
                got = await consumer.getmany(
                    *remaining, timeout_ms=500, max_records=batch_size * WRITERS
                )
                shares: list[dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]] = [
                    {} for _ in range(WRITERS)
                ]
                for tp, records in got.items():
                    records = [r for r in records if r.offset < end[tp]]
                    if records:
                        shares[writer_of[tp]][tp] = records
                        if records[-1].offset + 1 >= end[tp]:
                            remaining.discard(tp)
                for tp in list(remaining):
                    if await consumer.position(tp) >= end[tp]:
                        remaining.discard(tp)
                for queue, share in zip(queues, shares, strict=True):
                    if share:
                        await queue.put((share, await decode_records(share)))
            for queue in queues:
                await queue.put(None)

        with tqdm(
            total=total,
            unit="ev",
            desc=f"rebuild {projection.name}",
            disable=not progress,
            unit_scale=True,
        ) as bar:

            async def write(queue: asyncio.Queue[Fetched | None]) -> None:
                nonlocal events, applied
                while (item := await queue.get()) is not None:
                    batch, decoded = item
                    new = await apply_records(
                        pool, projection, batch, decoded=decoded, rebuilding=seen
                    )
                    applied += new  # after the await: the other writer adds to it meanwhile
                    count = _count(batch)
                    events += count
                    bar.update(count)

            # A failure anywhere cancels the other tasks and is raised here, as itself.
            try:
                async with asyncio.TaskGroup() as tasks:
                    tasks.create_task(fetch())
                    for queue in queues:
                        tasks.create_task(write(queue))
            except BaseExceptionGroup as failed:
                raise failed.exceptions[0] from failed
        return events, applied
    finally:
        await consumer.stop()


def _count(batch: Records) -> int:
    return sum(len(records) for records in batch.values())
