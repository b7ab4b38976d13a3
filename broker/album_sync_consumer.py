"""Wakes the album process manager on StorageFolderSyncCompleted, and sweeps regularly.

The messages only wake the manager early: its sweep finds the albums to update from Storage's
catalogue, so a message is never the unit of work and nothing here needs parking. A sweep that
fails is logged (once per outage, see ``OutageLog``) and the next sweep tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer

from broker.consumers import Progress
from broker.failure_policy import OutageLog
from broker.topics import FOLDER_SYNC_COMPLETED
from commands.album_sync import AlbumSyncManager
from infra.outages import is_outage

log = logging.getLogger(__name__)


class AlbumSyncTrigger:
    def __init__(
        self,
        manager: AlbumSyncManager,
        bootstrap: str,
        *,
        namespace: str,
        topic_prefix: str,
        sweep_seconds: float = 2.0,
    ) -> None:
        self._manager = manager
        self._bootstrap = bootstrap
        self._group = f"{namespace}.album-sync"
        self._topic = topic_prefix + FOLDER_SYNC_COMPLETED
        self._sweep_seconds = sweep_seconds
        self._outage = OutageLog("album-sync")
        self.progress = Progress()
        self.failure: str | None = None

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            self._topic,
            bootstrap_servers=self._bootstrap,
            group_id=self._group,
            enable_auto_commit=False,
            auto_offset_reset="latest",
        )
        await consumer.start()
        try:
            while True:
                await self._sweep()
                with contextlib.suppress(TimeoutError):
                    # a completion wakes the manager early; the sweep itself finds the albums
                    wait = self._sweep_seconds
                    batch = await asyncio.wait_for(
                        consumer.getmany(timeout_ms=int(wait * 1000)), wait + 1
                    )
                    if batch:
                        await asyncio.sleep(0.2)  # let the catalogue projection apply the files
                        await consumer.commit()
                self.progress.moved()
        finally:
            await consumer.stop()

    async def _sweep(self) -> None:
        try:
            await self._manager.sweep()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.failure = f"{type(error).__name__}: {error}"
            if is_outage(error):
                self._outage.down(error)
            else:
                log.exception("album-sync: a sweep failed; the next one tries again")
            return
        self._outage.up()
        self.failure = None
