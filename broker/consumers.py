"""What every long-running Kafka consumer here shares: its lag, proof that it moves, and a
pause that lets a light flow gather into fuller fetches."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition

THIN_BATCH = 100
"""Fewer records than this in a fetch: the flow is light, and the next fetch can wait a little."""


async def after_thin_batch(records: int, pause: float) -> None:
    """Pause ``pause`` seconds after a fetch of fewer than ``THIN_BATCH`` records.

    aiokafka asks the broker for a partition again as soon as its buffered records are taken,
    and the broker answers as soon as one message is there (the default ``fetch_min_bytes``),
    so at a few hundred commands a second every consumer sent a fetch (and a transaction, or an
    offset commit) for each message or two. On the split platform at 200 commands/s that cost
    Kafka about 1.5 ms of CPU per command and the Sender alone 0.5 ms (py-spy). Pausing after
    a thin fetch lets the next one carry everything that arrived meanwhile, for at most
    ``pause`` of added latency; a full fetch is followed at once, and an idle consumer still
    long-polls (500 ms) as before, instead of the short polls a ``fetch_max_wait_ms`` as low as
    ``pause`` would cost.
    """
    if records < THIN_BATCH:
        await asyncio.sleep(pause)


def lag(consumer: AIOKafkaConsumer | None, reached: Mapping[TopicPartition, int]) -> int:
    """Messages on the consumer's assigned partitions beyond the offsets ``reached``."""
    if consumer is None:
        return 0
    total = 0
    for tp in consumer.assignment():
        high = consumer.highwater(tp)
        if high is not None:
            total += max(0, high - reached.get(tp, 0))
    return total


class Progress:
    """When a consumer last polled or finished a batch, for the supervisor's watchdog.

    A Kafka client can hang after losing its coordinator while every server answers; a
    consumer that is behind and has not moved for a while is then recreated.
    """

    def __init__(self) -> None:
        self.at = time.monotonic()

    def moved(self) -> None:
        self.at = time.monotonic()

    def stalled(self, behind: int, after: float) -> bool:
        return behind > 0 and time.monotonic() - self.at > after
