"""The sync worker's triggers: sync requests from Kafka, and running syncs found at start.

It reacts to FolderSyncStarted on ``storage.folder`` (a POST to the sync route) and to
FullSyncStorage on ``photoflow.full-sync-storage`` (an album asking for its folder), and every
``rescan_seconds`` it looks for syncs still marked running, such as one whose worker crashed.
A PostgreSQL advisory lock per folder makes sure one runner, in any process, owns a sync.
A request that can never start (say, for a folder that does not exist) is parked by the
failure policy, and the worker goes on with the next.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaConsumer

from broker.consumers import Progress
from broker.envelope import decode_fast
from broker.failure_policy import MessagePolicy, message_of
from broker.topics import FOLDERS, FULL_SYNC_STORAGE
from infra.pg_sessions import session_lock

log = logging.getLogger(__name__)

RunSync = Callable[[UUID], Awaitable[bool]]
StartSync = Callable[[UUID, str, UUID | None], Awaitable[object]]
"""(folder, actor, the asking studio): refuses a folder of another studio as not found."""


def folder_lock_key(folder_id: UUID) -> int:
    return zlib.crc32(f"folder-sync:{folder_id}".encode())


class SyncWorker:
    def __init__(
        self,
        run_sync: RunSync,
        start_sync: StartSync,
        pool: asyncpg.Pool,
        bootstrap: str,
        policy: MessagePolicy,
        *,
        namespace: str,
        topic_prefix: str,
        max_parallel: int = 4,
        rescan_seconds: float = 10.0,
    ) -> None:
        self._run_sync = run_sync
        self._start_sync = start_sync
        self._pool = pool
        self._policy = policy
        self.progress = Progress()
        self._bootstrap = bootstrap
        self._group = f"{namespace}.storage-sync"
        self._topics = [topic_prefix + FOLDERS.topic, topic_prefix + FULL_SYNC_STORAGE]
        self._slots = asyncio.Semaphore(max_parallel)
        self._rescan = rescan_seconds
        self._active: dict[UUID, asyncio.Task[None]] = {}
        self.completed = 0
        self.ready = False
        """Holding partitions with a committed position: no request can be missed any more."""

    def running(self) -> int:
        return len(self._active)

    async def _pin_positions(self, consumer: AIOKafkaConsumer) -> None:
        """Resolve and commit where each assigned partition starts.

        A new group starts at the end of its topics: a request published before its partitions
        were assigned and their positions known would be missed. Committing the resolved
        positions at once makes the start durable, and only then is the worker ready.
        """
        assigned = consumer.assignment()
        if assigned:
            await consumer.commit({tp: await consumer.position(tp) for tp in assigned})
            self.ready = True

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._bootstrap,
            group_id=self._group,
            enable_auto_commit=False,
            auto_offset_reset="latest",
        )
        await consumer.start()
        rescan = asyncio.create_task(self._rescan_forever())
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=500)
                if not self.ready and not batches:
                    await self._pin_positions(consumer)
                for records in batches.values():
                    for record in records:

                        async def react(
                            topic: str = record.topic, value: bytes = record.value or b""
                        ) -> None:
                            if value:
                                await self._react(topic, value)

                        await self._policy.handle(message_of(record), react)
                if batches:
                    await consumer.commit()
                self.progress.moved()
        finally:
            self.ready = False
            rescan.cancel()
            for task in self._active.values():
                task.cancel()
            await asyncio.gather(rescan, *self._active.values(), return_exceptions=True)
            await consumer.stop()

    async def _react(self, topic: str, payload: bytes) -> None:
        envelope = decode_fast(payload)
        if envelope.type == "FolderSyncStarted":
            self.schedule(envelope.aggregate_id)
        elif topic.endswith(FULL_SYNC_STORAGE) and envelope.type == "FullSyncStorage":
            folder_id = UUID(str(envelope.data["folder_id"]))
            actor = envelope.actor or f"album:{envelope.aggregate_id}"
            await self._start_sync(folder_id, actor, envelope.org_id)
            self.schedule(folder_id)

    def schedule(self, folder_id: UUID) -> None:
        if folder_id not in self._active:
            task = asyncio.create_task(self._own_and_run(folder_id))
            self._active[folder_id] = task
            task.add_done_callback(lambda _: self._active.pop(folder_id, None))

    async def _own_and_run(self, folder_id: UUID) -> None:
        lock = session_lock(self._pool, folder_lock_key(folder_id), wait=False)
        async with self._slots, lock as owned:
            if not owned:
                return  # another worker runs this sync
            try:
                if await self._run_sync(folder_id):
                    self.completed += 1
            except Exception:
                log.exception("sync of folder %s stopped; it resumes on the next scan", folder_id)

    async def _rescan_forever(self) -> None:
        while True:
            try:
                async with self._pool.acquire() as conn:
                    rows = await conn.fetch(
                        "SELECT folder_id FROM read.folders WHERE sync_state = 'running'"
                    )
            except Exception as error:  # PostgreSQL away: the next scan tries again
                log.warning("sync rescan skipped: %s", error)
                rows = []
            for row in rows:
                self.schedule(row["folder_id"])
            await asyncio.sleep(self._rescan)

    @property
    def failure(self) -> str | None:
        return self._policy.failure
