"""The render worker's trigger: file batches recorded on ``storage.folder``.

Its own consumer group, reading from the beginning, so a platform that gains the worker renders
every folder it already knows (the store skips what exists). A batch is rendered before its
offset is committed; a worker that dies re-renders at most that batch, cheaply, since what was
stored is found by checksum. A batch that fails the same way again and again (a folder that
vanished) is parked by the failure policy; outages (PostgreSQL, a provider) are waited out.
A render of a thousand files can take minutes, so the poll interval is long enough not to
lose the partition meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaConsumer, TopicPartition

from broker.consumers import Progress
from broker.consumers import lag as consumer_lag
from broker.envelope import decode_fast
from broker.failure_policy import MessagePolicy, message_of
from broker.topics import FOLDERS

log = logging.getLogger(__name__)

RenderFiles = Callable[[UUID, UUID, Sequence[dict[str, Any]]], Awaitable[None]]
"""(folder, studio, FileInfo records)"""
HOUR_MS = 3_600_000


class RenderWorker:
    def __init__(
        self,
        render_files: RenderFiles,
        bootstrap: str,
        policy: MessagePolicy,
        *,
        namespace: str,
        topic_prefix: str,
    ) -> None:
        self._render_files = render_files
        self._bootstrap = bootstrap
        self._policy = policy
        self._group = f"{namespace}.render"
        self._topic = topic_prefix + FOLDERS.topic
        self.progress = Progress()
        self.batches = 0
        self._consumer: AIOKafkaConsumer | None = None
        self._reached: dict[TopicPartition, int] = {}

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            self._topic,
            bootstrap_servers=self._bootstrap,
            group_id=self._group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=HOUR_MS,
            max_poll_records=20,
        )
        await consumer.start()
        self._consumer = consumer
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=20)
                for records in batches.values():
                    for record in records:

                        async def react(value: bytes = record.value or b"") -> None:
                            if value:
                                await self._react(value)

                        await self._policy.handle(message_of(record), react)
                        self._reached[TopicPartition(record.topic, record.partition)] = (
                            record.offset + 1
                        )
                        self.progress.moved()
                    await consumer.commit()
                self.progress.moved()
        finally:
            self._consumer = None
            await consumer.stop()

    async def _react(self, payload: bytes) -> None:
        envelope = decode_fast(payload)
        if envelope.type != "FolderFilesDiscovered" or envelope.org_id is None:
            return
        await self._render_files(envelope.aggregate_id, envelope.org_id, envelope.data["files"])
        self.batches += 1

    def lag(self) -> int:
        """Messages on the assigned partitions not rendered yet."""
        return consumer_lag(self._consumer, self._reached)

    def stalled(self, after: float) -> bool:
        return self.progress.stalled(self.lag(), after)

    @property
    def failure(self) -> str | None:
        return self._policy.failure
