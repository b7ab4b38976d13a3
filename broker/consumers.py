"""What every long-running Kafka consumer here shares: its lag, and proof that it moves."""

from __future__ import annotations

import time
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition


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
