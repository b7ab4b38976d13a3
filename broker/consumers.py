"""What every long-running Kafka consumer here shares: its lag, and staying up after a failure."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition

log = logging.getLogger(__name__)


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


async def keep_running(
    run: Callable[[], Awaitable[None]],
    what: str,
    on_failure: Callable[[Exception], None] = lambda _: None,
    restart_delay: float = 2.0,
) -> None:
    """Run until cancelled; after a failure, wait and start again (from the stored offsets).

    The failure is logged and reported, never swallowed: nothing is skipped, the same messages
    are read again.
    """
    while True:
        try:
            await run()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            on_failure(error)
            log.exception("%s failed; starting again from its stored offsets", what)
            await asyncio.sleep(restart_delay)
