"""The Sender's worker: consumer group ``{namespace}.sender`` on the topics whose events call
for a message (for now ``organization.org``).

Offsets are committed to Kafka only after ``handle`` has finished every message before them,
so a crash replays messages rather than dropping them (at least once); the ``Delivery``
aggregate makes the replay harmless. Partitions of one batch are handled concurrently, each
one's messages in order. A failing message follows ``broker.failure_policy``: an outage is
waited out on that message (holding back only its own partition), any other error parks it
after a few tries. Handling may wait through retry back-offs, so the poll interval is generous.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition

from broker.consumers import Progress, after_thin_batch
from broker.consumers import lag as consumer_lag
from broker.envelope import Event, decode_fast
from broker.failure_policy import MessagePolicy, message_of
from broker.topics import ORGS

log = logging.getLogger(__name__)

GATHER_SECONDS = 0.1
"""Mail can leave a tenth of a second later; the Sender then fetches and commits in batches."""

Handler = Callable[[Event], Awaitable[None]]


def group_id(namespace: str) -> str:
    return f"{namespace}.sender"


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
        policy: MessagePolicy,
        *,
        namespace: str = "photoflow",
        topic_prefix: str = "",
        topics: Sequence[str] = (ORGS.topic,),
        types: frozenset[str] | None = None,
        batch_size: int = 100,
        max_poll_interval_ms: int = 900_000,
    ) -> None:
        self._handle = handle
        self._types = types
        """The event types ``handle`` acts on (None: all); the others are counted and passed."""
        self._bootstrap = bootstrap
        self._group_id = group_id(namespace)
        self._topics = [topic_prefix + t for t in topics]
        self._batch_size = batch_size
        self._policy = policy
        self._max_poll_interval_ms = max_poll_interval_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._reached: dict[TopicPartition, int] = {}
        self.handled = 0
        self.progress = Progress()

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
                if not records and self.lag() == 0:
                    self.progress.moved()  # idle, not stuck
                if records:
                    await self._process(consumer, records)
                    self.progress.moved()
                    await after_thin_batch(sum(map(len, records.values())), GATHER_SECONDS)
        finally:
            self._consumer = None
            await consumer.stop()

    async def _process(
        self,
        consumer: AIOKafkaConsumer,
        records: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
    ) -> None:
        partitions = list(records)
        await asyncio.gather(*(self._partition(records[tp]) for tp in partitions))
        offsets = {tp: records[tp][-1].offset + 1 for tp in partitions if records[tp]}
        await consumer.commit(offsets)
        self._reached.update(offsets)

    async def _partition(self, batch: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Each message handled or parked, in order: the policy returns only then."""
        for record in batch:
            types = self._types
            if types is not None and (kind := _type_of(record)) is not None and kind not in types:
                # a pick or a rename: nothing to send, so no decoding and no policy around it
                self.handled += 1
                continue

            async def handle(value: bytes | None = record.value) -> None:
                await self._handle(decode_fast(value or b""))

            await self._policy.handle(message_of(record), handle)
            self.handled += 1

    @property
    def failure(self) -> str | None:
        return self._policy.failure

    @property
    def parked(self) -> int:
        return self._policy.parked

    async def track(self, assigned: set[TopicPartition]) -> None:
        """Learn the committed offsets of newly assigned partitions, for ``lag``."""
        consumer = self._consumer
        assert consumer is not None
        for tp in assigned:
            self._reached[tp] = await consumer.committed(tp) or 0

    def lag(self) -> int:
        """Messages on the assigned partitions not handled yet."""
        return consumer_lag(self._consumer, self._reached)

    def stalled(self, after: float) -> bool:
        return self.progress.stalled(self.lag(), after)


def _type_of(record: ConsumerRecord[bytes, bytes]) -> str | None:
    """The envelope's type from the record's ``type`` header (the relay sets it on every
    message), without decoding the value; None for a record that has none."""
    for key, value in record.headers:
        if key == "type":
            return bytes(value).decode("utf-8", "replace")
    return None
