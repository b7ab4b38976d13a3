"""A projection worker: one Kafka consumer group per projection, offsets kept in PostgreSQL.

Kafka assigns partitions among the group's members, so several processes running the same
projection share the load. Offsets are never committed to Kafka as the source of truth: on
every assignment the worker seeks to the offsets stored beside the read rows.
"""

from __future__ import annotations

import logging

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from broker.consumers import keep_running
from broker.consumers import lag as consumer_lag
from projections import positions
from projections.applier import apply_records
from projections.base import Projection

log = logging.getLogger(__name__)


def group_id(namespace: str, projection: str) -> str:
    return f"{namespace}.projection.{projection}"


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
        self._consumer: AIOKafkaConsumer | None = None
        self._consumed: dict[TopicPartition, int] = {}
        self.applied = 0
        self.consumed = 0
        self.failure: str | None = None
        """The last batch's error while it keeps failing; None once a batch succeeds."""

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
        try:
            while True:
                records = await consumer.getmany(timeout_ms=500, max_records=self._batch_size)
                if not records:
                    continue
                self.applied += await apply_records(self._pool, self.projection, records)
                self.consumed += sum(len(batch) for batch in records.values())
                self.failure = None
                for tp, batch in records.items():
                    self._consumed[tp] = batch[-1].offset + 1
        finally:
            self._consumer = None
            await consumer.stop()

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


async def run_forever(worker: ProjectionWorker, restart_delay: float = 2.0) -> None:
    """Keep a worker running: a failed batch is retried from the stored offsets, never skipped."""

    def failed(error: Exception) -> None:
        worker.failure = f"{type(error).__name__}: {error}"

    await keep_running(worker.run, f"projection {worker.projection.name}", failed, restart_delay)
