"""When each aggregate's first event reaches Kafka, seen by a plain consumer.

Freshness has two legs: command to topic (the relay) and topic to read table (the projector).
Tailing the topic beside the projector splits the total, so a slow figure points at its leg.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from aiokafka import AIOKafkaConsumer

from broker.admin import partitions_of


class KafkaTail:
    """Follows a topic from its current end and notes when each key is first seen."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="latest"
        )
        self._task: asyncio.Task[None] | None = None
        self.first_seen: dict[str, float] = {}

    async def __aenter__(self) -> KafkaTail:
        await self._consumer.start()
        partitions = await partitions_of(self._bootstrap, [self._topic])
        self._consumer.assign(partitions)
        for tp in partitions:  # resolve "latest" now, so nothing sent from here on is skipped
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._follow())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def _follow(self) -> None:
        while True:
            fetched = await self._consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for records in fetched.values():
                for record in records:
                    if record.key is not None:
                        self.first_seen.setdefault(record.key.decode(), now)
