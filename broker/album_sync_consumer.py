"""Wakes the album process manager on StorageFolderSyncCompleted, and sweeps regularly."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka import AIOKafkaConsumer

from broker.topics import FOLDER_SYNC_COMPLETED
from commands.album_sync import AlbumSyncManager


async def run_album_sync(
    manager: AlbumSyncManager,
    bootstrap: str,
    *,
    namespace: str,
    topic_prefix: str,
    sweep_seconds: float = 2.0,
) -> None:
    consumer = AIOKafkaConsumer(
        topic_prefix + FOLDER_SYNC_COMPLETED,
        bootstrap_servers=bootstrap,
        group_id=f"{namespace}.album-sync",
        enable_auto_commit=False,
        auto_offset_reset="latest",
    )
    await consumer.start()
    try:
        while True:
            await manager.sweep()
            with contextlib.suppress(TimeoutError):
                # a completion wakes the manager early; the sweep itself finds the albums
                batch = await asyncio.wait_for(
                    consumer.getmany(timeout_ms=int(sweep_seconds * 1000)), sweep_seconds + 1
                )
                if batch:
                    await asyncio.sleep(0.2)  # let the catalogue projection apply the last files
                    await consumer.commit()
    finally:
        await consumer.stop()
