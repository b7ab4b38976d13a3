"""Reading whole partitions fast, for a replay: librdkafka through ``confluent_kafka``.

A replay reads every record of a projection's topics once, as fast as it can, and needs of each
only its offset and value. aiokafka's record parser, which the live consumers use, builds each
record's headers as it reads it: the relay gives every message the contract's nine headers
(``type``, ``id`` and the CloudEvents binding's), and reading a topic of such messages cost
aiokafka 12 µs a record against 4 µs without them, a third of a rebuilding process's CPU.
librdkafka parses records in its own threads, outside the GIL, and headers only when asked:
the same 150,000 records read at 235,000-287,000 a second instead of 50,000-80,000.

Live consumers stay on aiokafka: they need consumer groups, rebalances and headers, and read
batches far smaller than a replay's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import NamedTuple, TypeVar, cast

from aiokafka import TopicPartition
from confluent_kafka import Consumer, KafkaError, KafkaException, Message
from confluent_kafka import TopicPartition as LibTopicPartition

log = logging.getLogger(__name__)
T = TypeVar("T")

POLL_SECONDS = 0.5
"""How long one read waits for a first record when none is there yet."""
METADATA_SECONDS = 30.0
RETRY_SECONDS = 0.1


MOST_RECORDS = 1_000_000
"""The most librdkafka's batch call takes at once."""

_LEADERLESS = {
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
}
"""Answers a topic created a moment ago gives until its leaders are known everywhere. (An
error built from a code alone, as these are, never says it is retriable: they are listed.)"""


class Record(NamedTuple):
    """What a replay needs of a Kafka record."""

    offset: int
    value: bytes | None


Batch = dict[TopicPartition, list[Record]]


class PartitionReader:
    """Reads assigned partitions from their first offset up to the end each had at start.

    Use ``async with``: ``first`` and ``end`` then hold each partition's offsets, and ``read``
    gives the next records of the partitions not yet at their end, until ``finished``.
    """

    def __init__(self, bootstrap: str, partitions: Sequence[TopicPartition]) -> None:
        self._partitions = list(partitions)
        self.first: dict[TopicPartition, int] = {}
        self.end: dict[TopicPartition, int] = {}
        self._remaining: set[TopicPartition] = set()
        self._said_away = False
        self._fatal: KafkaError | None = None
        self._busy: asyncio.Future[object] | None = None
        """The client's call running in a worker thread, if any."""
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": "photoflow-replay",  # required; assign() never joins the group
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "fetch.max.bytes": 32 * 1024 * 1024,
                "max.partition.fetch.bytes": 8 * 1024 * 1024,
                "fetch.wait.max.ms": 10,
                # an offset retention removed meanwhile: read on from what is left, never
                # skip to the end (librdkafka's default)
                "auto.offset.reset": "earliest",
                "queued.min.messages": 200_000,
                "logger": log,
                # client-level errors (a broker away) come only here, never through consume()
                "error_cb": self._on_client_error,
            }
        )

    async def __aenter__(self) -> PartitionReader:
        try:
            await self._in_thread(self._assign)
        except BaseException:
            await self._close()  # or its threads would live on, into any process forked later
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._close()

    async def _close(self) -> None:
        """Close the client once no thread uses it: a replay cancelled mid-read leaves its
        read running in a worker thread, and librdkafka must not be closed under it."""
        busy = self._busy
        if busy is not None:
            await asyncio.wait([busy])
            if not busy.cancelled():
                busy.exception()  # seen: a cancelled reader's last read may have failed too
        await asyncio.to_thread(self._consumer.close)

    async def _in_thread(self, call: Callable[[], T]) -> T:
        """``call`` in a worker thread, remembered until it returns, so that ``_close`` waits
        for it even when the caller was cancelled meanwhile."""
        busy = asyncio.ensure_future(asyncio.to_thread(call))
        self._busy = cast(asyncio.Future[object], busy)
        return await asyncio.shield(busy)

    def _assign(self) -> None:
        deadline = time.monotonic() + METADATA_SECONDS
        for tp in self._partitions:
            self.first[tp], self.end[tp] = self._watermarks(tp, deadline)
        self._remaining = {tp for tp in self._partitions if self.end[tp] > self.first[tp]}
        self._consumer.assign(
            [LibTopicPartition(tp.topic, tp.partition, self.first[tp]) for tp in self._remaining]
        )

    def _watermarks(self, tp: TopicPartition, deadline: float) -> tuple[int, int]:
        """The partition's first and end offsets, asked again while the answer is one to retry
        (a topic created a moment ago has no leader yet)."""
        while True:
            try:
                low, high = self._consumer.get_watermark_offsets(
                    LibTopicPartition(tp.topic, tp.partition),
                    timeout=max(0.1, deadline - time.monotonic()),
                )
                return low, high
            except KafkaException as failed:
                error = failed.args[0]
                if not (isinstance(error, KafkaError) and error.code() in _LEADERLESS):
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(RETRY_SECONDS)

    @property
    def finished(self) -> bool:
        return not self._remaining

    async def read(self, max_records: int) -> Batch:
        """Up to ``max_records`` records, by partition, none past a partition's end."""
        if self._fatal is not None:
            raise KafkaException(self._fatal)
        messages = await self._in_thread(partial(self._take, min(max_records, MOST_RECORDS)))
        batch: Batch = {}
        lists: dict[tuple[str, int], list[Record]] = {}
        for message in messages:
            error = message.error()
            if error is not None:
                self._on_error(error)
                continue
            # a fetched message always has them: None only on an error, handled above
            key = cast(tuple[str, int], (message.topic(), message.partition()))
            records = lists.get(key)
            if records is None:
                tp = TopicPartition(*key)
                records = lists[key] = batch[tp] = []
            records.append(Record(cast(int, message.offset()), message.value()))
        return self._within_ends(batch)

    def _take(self, most: int) -> list[Message]:
        """What librdkafka holds already, up to ``most``; else the first record to come and
        what came with it. (Its batch call, given a timeout, waits for ``most`` records or the
        timeout, so the writers would idle while a fetch fills a batch.)"""
        messages = self._consumer.consume(most, 0)
        if messages:
            return messages
        first = self._consumer.poll(POLL_SECONDS)
        if first is None:
            return []
        return [first, *(self._consumer.consume(most - 1, 0) if most > 1 else ())]

    def _on_error(self, error: KafkaError) -> None:
        """An error about a partition (its topic deleted, say) ends the replay."""
        if error.code() != KafkaError._PARTITION_EOF:
            raise KafkaException(error)

    def _on_client_error(self, error: KafkaError) -> None:
        """A broker away is waited for, as the live consumers wait (librdkafka reconnects on
        its own), and said once; a fatal error ends the replay at its next read."""
        if error.fatal() or error.code() == KafkaError._FATAL:
            self._fatal = error
        elif not self._said_away:
            log.warning("replay: Kafka answers %s; reading on once it is back", error.str())
            self._said_away = True

    def _within_ends(self, batch: Batch) -> Batch:
        """Drop records past the ends seen at start (events recorded during the replay are the
        live worker's); finish the partitions whose records reached their end, the last one
        included or stepped over (librdkafka steps over the markers of transactions itself; the
        platform's topics are never compacted, so no other record goes missing)."""
        kept: Batch = {}
        for tp, records in batch.items():
            end = self.end[tp]
            if records[-1].offset + 1 >= end:
                self._finish(tp)
                records = [r for r in records if r.offset < end]
            if records:
                kept[tp] = records
        return kept

    def _finish(self, tp: TopicPartition) -> None:
        self._remaining.discard(tp)
        self._consumer.pause([LibTopicPartition(tp.topic, tp.partition)])
