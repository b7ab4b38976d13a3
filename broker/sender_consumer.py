"""The Sender's worker: consumer group ``{namespace}.sender`` on the topics whose events call
for a message (for now ``organization.org``).

Offsets are committed to Kafka only after ``handle`` has finished every message before them,
so a crash replays messages rather than dropping them (at least once); the ``Delivery``
aggregate makes the replay harmless. Partitions of one batch are handled concurrently, each
one's messages in order. A message whose handling fails is logged and tried again from the same
offset after a pause: never skipped, and it holds back only the messages behind it on its own
partition. Handling may wait through retry back-offs, so the poll interval is generous.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition

from broker.consumers import keep_running
from broker.consumers import lag as consumer_lag
from broker.envelope import Envelope, decode
from broker.topics import ORGS

log = logging.getLogger(__name__)

Handler = Callable[[Envelope], Awaitable[None]]


def group_id(namespace: str) -> str:
    return f"{namespace}.sender"


@dataclass(frozen=True)
class _Reached:
    """Where one partition's handling got to: the next offset, and the one that failed."""

    next_offset: int | None
    failed_offset: int | None


class _TrackCommitted(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: SenderConsumer) -> None:
        self._worker = worker

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._worker.track(assigned)


class SenderConsumer:
    """Feeds each message to ``handle``; runs until cancelled."""

    def __init__(
        self,
        handle: Handler,
        bootstrap: str,
        *,
        namespace: str = "photoflow",
        topic_prefix: str = "",
        topics: Sequence[str] = (ORGS.topic,),
        batch_size: int = 100,
        retry_delay: float = 2.0,
        max_poll_interval_ms: int = 900_000,
    ) -> None:
        self._handle = handle
        self._bootstrap = bootstrap
        self._group_id = group_id(namespace)
        self._topics = [topic_prefix + t for t in topics]
        self._batch_size = batch_size
        self._retry_delay = retry_delay
        self._max_poll_interval_ms = max_poll_interval_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._reached: dict[TopicPartition, int] = {}
        self.handled = 0
        self.failures = 0

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",  # a first start must not miss what is already there
            max_poll_interval_ms=self._max_poll_interval_ms,
        )
        consumer.subscribe(self._topics, listener=_TrackCommitted(self))
        self._consumer = consumer
        await consumer.start()
        try:
            while True:
                records = await consumer.getmany(timeout_ms=500, max_records=self._batch_size)
                if records:
                    await self._process(consumer, records)
        finally:
            self._consumer = None
            await consumer.stop()

    async def _process(
        self,
        consumer: AIOKafkaConsumer,
        records: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
    ) -> None:
        partitions = list(records)
        reached = await asyncio.gather(*(self._partition(tp, records[tp]) for tp in partitions))
        done = {tp: r.next_offset for tp, r in zip(partitions, reached, strict=True)}
        offsets = {tp: offset for tp, offset in done.items() if offset is not None}
        if offsets:
            await consumer.commit(offsets)
            self._reached.update(offsets)
        failed = [(tp, r.failed_offset) for tp, r in zip(partitions, reached, strict=True)]
        retries = [(tp, offset) for tp, offset in failed if offset is not None]
        for tp, offset in retries:
            consumer.seek(tp, offset)
        if retries:
            await asyncio.sleep(self._retry_delay)

    async def _partition(
        self, tp: TopicPartition, batch: list[ConsumerRecord[bytes, bytes]]
    ) -> _Reached:
        reached: int | None = None
        for record in batch:
            try:
                await self._handle(decode(record.value or b""))
            except Exception:
                self.failures += 1
                log.exception(
                    "sender: %s-%d offset %d failed; retrying it in %.1f s",
                    tp.topic,
                    tp.partition,
                    record.offset,
                    self._retry_delay,
                )
                return _Reached(reached, record.offset)
            reached = record.offset + 1
            self.handled += 1
        return _Reached(reached, None)

    async def track(self, assigned: set[TopicPartition]) -> None:
        """Learn the committed offsets of newly assigned partitions, for ``lag``."""
        consumer = self._consumer
        assert consumer is not None
        for tp in assigned:
            self._reached[tp] = await consumer.committed(tp) or 0

    def lag(self) -> int:
        """Messages on the assigned partitions not handled yet."""
        return consumer_lag(self._consumer, self._reached)


async def run_forever(worker: SenderConsumer, restart_delay: float = 2.0) -> None:
    """Keep the worker running: after a Kafka failure it resumes from the committed offsets."""
    await keep_running(worker.run, "sender consumer", restart_delay=restart_delay)
