"""A projection worker: one Kafka consumer group per projection, offsets kept in PostgreSQL.

Kafka assigns partitions among the group's members, so several processes running the same
projection share the load. Offsets are never committed to Kafka as the source of truth: on
every assignment the worker seeks to the offsets stored beside the read rows.

Fetching and decoding overlap writing: a fetch task reads and decodes the next batch into a
small bounded queue while the worker applies the last one. Batches apply in the order
fetched; one fetched before a rebalance is safe to apply late, because each transaction locks
the partitions' stored offsets and skips what is already below them.

Failures follow ``broker.failure_policy``: a batch that fails because PostgreSQL does not
answer is retried as it is until it does; a batch that fails otherwise is applied again one
record at a time, so the one record that can never apply is parked and every other applies.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from broker.consumers import Progress, after_thin_batch
from broker.consumers import lag as consumer_lag
from broker.failure_policy import MessagePolicy, OutageLog, message_of
from broker.parking import ParkingLot, describe_error
from infra.heartbeats import worker_label
from infra.outages import is_outage
from projections import positions
from projections.applier import (
    PIPELINE_DEPTH,
    Decoded,
    Fetched,
    OffsetsBehind,
    Records,
    apply_records,
    contiguous,
    decode_records,
    joined,
    take,
)
from projections.base import Projection

log = logging.getLogger(__name__)
T = TypeVar("T")

IDLE_CHECK_SECONDS = 5.0
"""How often an idle worker checks that the stored offsets still hold what it applied."""
GATHER_SECONDS = 0.005
"""A read table is what users wait for after a write: at most a few ms gathering a fetch."""


def _queued(queue: asyncio.Queue[T | None]) -> list[T]:
    """What else the fetcher queued while the last batch was being written, applied with the
    next one: a worker behind by a batch or two (half the time on ``make bench commands``)
    then catches up in one transaction instead of one each, which saves each one's half-dozen
    round trips (lock, offsets, versions, commit) to PostgreSQL."""
    more: list[T] = []
    while not queue.empty():
        item = queue.get_nowait()
        if item is None:  # the fetcher ended: keep its mark for the next ``take``
            queue.put_nowait(None)
            break
        more.append(item)
    return more


def group_id(namespace: str, projection: str) -> str:
    return f"{namespace}.projection.{projection}"


def worker_name(projection: str) -> str:
    """How parked messages and heartbeats name this projection's worker."""
    return worker_label("projector", projection)


class _SeekToStoredOffsets(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: ProjectionWorker) -> None:
        self._worker = worker

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._worker.seek_to_stored(assigned)


class ProjectionWorker:
    """Consumes the projection's topics in batches until cancelled."""

    def __init__(
        self,
        projection: Projection,
        pool: asyncpg.Pool,
        bootstrap: str,
        batch_size: int,
        policy: MessagePolicy,
        *,
        namespace: str = "photoflow",
        topic_prefix: str = "",
    ) -> None:
        self.projection = projection
        self._group_id = group_id(namespace, projection.name)
        self._topics = [topic_prefix + t for t in projection.topics]
        self._pool = pool
        self._bootstrap = bootstrap
        self._batch_size = batch_size
        self._policy = policy
        self._backoff = policy.backoff
        self._outage = OutageLog(f"projection {projection.name}")
        self._consumer: AIOKafkaConsumer | None = None
        self._consumed: dict[TopicPartition, int] = {}
        self.applied = 0
        self.consumed = 0
        self.progress = Progress()
        self._failure: str | None = None

    @property
    def parking(self) -> ParkingLot:
        return self._policy.parking

    @property
    def failure(self) -> str | None:
        """The error the worker keeps retrying right now; None while it flows."""
        return self._failure or self._policy.failure

    async def run(self) -> None:
        async with self._pool.acquire() as conn:
            await positions.create_schema(conn)
            await self.projection.create_tables(conn)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_bytes=16 * 1024 * 1024,
        )
        consumer.subscribe(self._topics, listener=_SeekToStoredOffsets(self))
        self._consumer = consumer
        await consumer.start()
        queue: asyncio.Queue[Fetched | None] = asyncio.Queue(PIPELINE_DEPTH)
        fetcher = asyncio.create_task(self._fetch(consumer, queue))
        try:
            ahead: deque[Fetched] = deque()  # taken from the queue, not applied yet
            while (item := ahead.popleft() if ahead else await take(queue, fetcher)) is not None:
                ahead.extend(_queued(queue))
                joinable = contiguous([item, *ahead]) - 1
                records, decoded = joined([item, *(ahead.popleft() for _ in range(joinable))])
                await self._apply(records, decoded)
                self.consumed += sum(len(batch) for batch in records.values())
                for tp, batch in records.items():
                    self._consumed[tp] = max(self._consumed.get(tp, 0), batch[-1].offset + 1)
                self.progress.moved()
        finally:
            fetcher.cancel()
            await asyncio.gather(fetcher, return_exceptions=True)
            self._consumer = None
            await consumer.stop()

    async def _fetch(
        self, consumer: AIOKafkaConsumer, queue: asyncio.Queue[tuple[Records, Decoded] | None]
    ) -> None:
        """Read and decode batches ahead of the writer, until cancelled."""
        checked = time.monotonic()
        while True:
            records = await consumer.getmany(timeout_ms=500, max_records=self._batch_size)
            if not records:
                if self.lag() == 0 and queue.empty():
                    self.progress.moved()  # idle, not stuck
                    if time.monotonic() - checked > IDLE_CHECK_SECONDS:
                        await self._check_stored(consumer)
                        checked = time.monotonic()
                continue
            await queue.put((records, await decode_records(records)))
            await after_thin_batch(sum(map(len, records.values())), GATHER_SECONDS)

    async def _apply(self, records: Records, decoded: Decoded | None = None) -> None:
        outages = 0
        while True:
            try:
                self.applied += await apply_records(
                    self._pool, self.projection, records, decoded=decoded, parking=self.parking
                )
            except (asyncio.CancelledError, OffsetsBehind):
                raise  # behind: the supervisor starts the worker again, from the stored offsets
            except Exception as error:
                self._failure = describe_error(error)
                if is_outage(error):
                    outages += 1
                    self._outage.down(error)
                    await asyncio.sleep(self._backoff.delay(outages))
                    continue
                log.warning(
                    "projection %s: a batch failed (%s); applying it one record at a time",
                    self.projection.name,
                    self._failure,
                )
                await self._one_by_one(records)
            self._outage.up()
            self._failure = None
            return

    async def _one_by_one(self, records: Records) -> None:
        for tp, batch in records.items():
            for record in batch:
                one = {tp: [record]}
                behind: list[OffsetsBehind] = []  # not the record's fault: never parked

                async def apply_one(
                    one: Records = one, behind: list[OffsetsBehind] = behind
                ) -> None:
                    try:
                        self.applied += await apply_records(
                            self._pool, self.projection, one, parking=self.parking
                        )
                    except OffsetsBehind as error:
                        behind.append(error)

                if not await self._policy.handle(message_of(record), apply_one):
                    await self._move_past(tp, record.offset)
                if behind:
                    raise behind[0]

    async def _check_stored(self, consumer: AIOKafkaConsumer) -> None:
        """``OffsetsBehind`` if the stored offsets fell behind what this worker applied.

        A rebuild stopped before its end, or a PostgreSQL crash that took back the last
        commits, leaves rows missing; a busy worker finds out with its next batch, an idle one
        only here. Either way it starts again from the stored offsets.
        """
        async with self._pool.acquire() as conn:
            stored = await positions.load_offsets(conn, self.projection.name)
        for tp in consumer.assignment():
            applied = self._consumed.get(tp, 0)
            at = stored.get((tp.topic, tp.partition), 0)
            if at < applied:
                raise OffsetsBehind(
                    f"projection {self.projection.name}: {tp.topic}[{tp.partition}] is stored at "
                    f"offset {at}, this worker applied up to {applied}"
                )

    async def _move_past(self, tp: TopicPartition, offset: int) -> None:
        """After parking a record, store the offset past it, unless a later batch did already."""
        key = (tp.topic, tp.partition)
        async with self._pool.acquire() as conn, conn.transaction():
            stored = await positions.lock_offsets(conn, self.projection.name, [key])
            if stored[key] <= offset:
                await positions.save_offsets(conn, self.projection.name, {key: offset + 1})

    async def seek_to_stored(self, assigned: set[TopicPartition]) -> None:
        assert self._consumer is not None
        async with self._pool.acquire() as conn:
            stored = await positions.load_offsets(conn, self.projection.name)
        for tp in assigned:
            offset = stored.get((tp.topic, tp.partition), 0)
            self._consumer.seek(tp, offset)
            self._consumed[tp] = offset

    def lag(self) -> int:
        """Messages on the assigned partitions that this worker has not consumed yet."""
        return consumer_lag(self._consumer, self._consumed)

    def stalled(self, after: float) -> bool:
        """Behind, yet no batch for ``after`` seconds: the watchdog recreates it."""
        return self.progress.stalled(self.lag(), after)
