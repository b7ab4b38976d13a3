"""Storage: a full sync of a large Drive folder against the bare listing of the same files.

The Drive test server runs in a process of its own with N generated images. The baseline lists
them with the same client library and provider code, doing nothing else. The sync runs in the
real sync worker process (``python -m infra sync``), which records the catalogue in batches;
its peak memory is read from /proc. Then the query behind ``GET .../photos`` pages through the
folder's read table at that size.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from bench.pages import page_latencies
from bench.processes import stop
from bench.report import Figure, Stopwatch, say
from commands.group_commit import GroupCommitter
from commands.providers import ProviderCommands
from commands.storage import StorageCommands
from infra.bootstrap import open_platform
from infra.cloud import ProviderConfig, make_provider
from infra.storage_wiring import outbound_policy
from projections.files import FilesProjection
from projections.rebuild import rebuild
from queries.storage import PHOTOS_AFTER
from tests.support.relaying import publish_everything
from tests.support.world import REPO, World

NAME = "storage"
FILE_KEYS = "SELECT path, name, file_id FROM read.files WHERE folder_id = $1"


def start_drive(images: int) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.drive_server", "--images", str(images)],
        cwd=REPO,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError("the Drive test server did not start")
    found: dict[str, Any] = json.loads(line)
    return proc, found


async def bare_listing(drive: dict[str, Any]) -> tuple[int, float]:
    config = ProviderConfig(
        drive_api_url=drive["api_endpoint"], google_token_uri=drive["token_uri"]
    )
    provider = make_provider("google_drive", drive["settings"], config)
    count = 0
    started = time.perf_counter()
    async for page in provider.pages(drive["folder"]):
        count += len(page)
    return count, time.perf_counter() - started


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def completed(pool: asyncpg.Pool, folder_id: UUID) -> bool:
    async with pool.acquire() as conn:
        found = await conn.fetchval(
            "SELECT count(*) FROM storage.storage_events WHERE originator_id = $1 "
            "AND topic LIKE '%SyncCompleted' OR originator_id = $1 AND topic LIKE '%SyncFailed'",
            folder_id,
        )
    return bool(found)


async def run(world: World, quick: bool) -> list[Figure]:
    images = 20_000 if quick else 100_000
    drive_proc, drive = start_drive(images)
    try:
        listed, list_seconds = await bare_listing(drive)
        say(
            f"  baseline, bare listing with the same client: {listed:,} files in "
            f"{list_seconds:.1f} s ({listed / list_seconds:,.0f} files/s)"
        )
        async with open_platform(world.settings) as platform:
            org_id, actor = uuid4(), uuid4()
            async with GroupCommitter(platform.apps["providers"]) as committer:
                await ProviderCommands(committer, outbound_policy(world.settings)).configure(
                    org_id, "google_drive", drive["settings"], actor
                )
            worker = world.spawn(
                "sync",
                log_name="bench-sync",
                drive_api_url=drive["api_endpoint"],
                google_token_uri=drive["token_uri"],
            )
            try:
                await asyncio.sleep(4)  # let the worker join its consumer group
                async with GroupCommitter(platform.apps["folders"]) as committer:
                    storage = StorageCommands(committer)
                    folder_id = (
                        await storage.register(
                            org_id, "google_drive", drive["folder"], "Benchmark", actor
                        )
                    ).aggregate_id
                    with Stopwatch() as sync:
                        await storage.start_sync(folder_id, "full", "bench")
                        await publish_everything(platform)
                        while not await completed(platform.pool, folder_id):
                            await asyncio.sleep(0.1)
                memory = peak_rss_mb(worker.pid)
            finally:
                await asyncio.to_thread(stop, worker)
            say(
                f"  sync: {images:,} files in {sync.seconds:.1f} s "
                f"({images / sync.seconds:,.0f} files/s), worker peak memory {memory:.0f} MB"
            )
            await publish_everything(platform)
            await rebuild(
                FilesProjection(),
                platform.pool,
                world.settings.kafka_bootstrap,
                5000,
                topic_prefix=world.settings.topic_prefix,
                progress=False,
            )
            pages = await page_latencies(
                platform.pool,
                "SELECT path, name, file_id FROM read.files WHERE folder_id = $1",
                PHOTOS_AFTER,
                folder_id,
            )
    finally:
        drive_proc.terminate()
        drive_proc.wait(timeout=15)
    return [
        Figure(
            NAME,
            f"full Drive sync, {images:,} files",
            sync.seconds,
            "s",
            "bare listing, same client",
            list_seconds,
            goal="< 30 s, < 300 MB",
            met=sync.seconds < 30 and memory < 300,
            detail=f"worker peak memory {memory:.0f} MB",
        ),
        Figure(
            NAME,
            f"photos page p99 at {images:,} files",
            pages.p99_ms,
            "ms",
            "p50 of the same pages",
            pages.p50_ms,
            detail=f"{len(pages.samples)} pages of 50 at random cursors, the route's query",
        ),
    ]
