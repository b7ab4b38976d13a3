"""Renditions: the render worker on camera-sized JPEGs against the bare library call.

The files (300 of 6000x4000, 24 megapixels; ``--quick``: 40 of 3000x2000) are generated once
into ``$PHOTOFLOW_CACHE_DIR/bench-renditions``: twelve distinct pictures (gradients under
sensor-like noise, EXIF orientations 1, 6, 8 and 3), copied to make up the count, so the
files cost what a photo costs to decode and each is rendered (the store is keyed by checksum,
and every copy has its own). The baseline is ``infra.imaging.render`` called in one thread on
the same files' bytes, nothing else. The worker is the real one (``python -m infra render``,
with the sync worker that records the folder), one render thread per core. "Per core" is per
CPU-second: read from /proc for the worker (all its threads, Kafka and the event store
included), from the thread's clock for the baseline, so other processes on a shared machine
do not count against the worker; the wall-clock rate is shown beside it. The worker's peak
memory is read from /proc.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path
from uuid import uuid4

from bench.processes import stop
from bench.rendition_files import camera_files
from bench.report import Figure, say
from bench.storage import completed, peak_rss_mb
from commands.group_commit import GroupCommitter
from commands.storage import StorageCommands
from infra.bootstrap import open_platform
from infra.imaging import render
from tests.support.relaying import publish_everything
from tests.support.world import World

NAME = "renditions"
DISTINCT = 12


def cache_root() -> Path:
    return Path(os.environ.get("PHOTOFLOW_CACHE_DIR", "~/.cache/photoflow")).expanduser()


def bench_files(count: int, size: tuple[int, int]) -> list[Path]:
    """``count`` JPEGs of ``size``: ``DISTINCT`` pictures generated once, then copied."""
    folder = cache_root() / "bench-renditions" / f"{size[0]}x{size[1]}"
    originals = camera_files(folder / "distinct", DISTINCT, size)
    files = folder / f"set-{count}"
    paths = [files / f"IMG_{i:04d}.jpg" for i in range(count)]
    for i, path in enumerate(paths):
        if not path.exists():
            files.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(originals[i % DISTINCT], path)
    return paths


def bare_rate(paths: list[Path]) -> float:
    """Files per CPU-second: the library call alone, bytes already in memory, one thread."""
    busy = 0.0
    for path in paths:
        data = path.read_bytes()
        started = time.thread_time()
        render(data)
        busy += time.thread_time() - started
    return len(paths) / busy


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (every thread)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stored(root: Path) -> int:
    return sum(1 for _ in root.rglob("*.jpg"))


async def run(world: World, quick: bool) -> list[Figure]:
    count, size = (40, (3000, 2000)) if quick else (300, (6000, 4000))
    say(f"  generating (first run only) {count} JPEGs of {size[0]}x{size[1]} ...")
    paths = await asyncio.to_thread(bench_files, count, size)
    cores = os.cpu_count() or 1
    sample = paths[: max(DISTINCT, count // 5)]
    baseline = await asyncio.to_thread(bare_rate, sample)
    say(f"  baseline, bare render(): {baseline:.2f} files per CPU-second ({len(sample)} files)")
    store = Path(tempfile.mkdtemp(prefix="bench-renditions-"))
    roots = str(paths[0].parent)
    try:
        async with open_platform(world.settings) as platform:
            workers = [
                world.spawn(
                    "render",
                    log_name="bench-render",
                    renditions_dir=str(store),
                    render_parallel=str(cores),
                    local_roots=roots,
                ),
                world.spawn("sync", log_name="bench-render-sync", local_roots=roots),
            ]
            try:
                await asyncio.sleep(4)  # let the workers join their consumer groups
                org_id, actor = uuid4(), uuid4()
                async with GroupCommitter(platform.apps["folders"]) as committer:
                    storage = StorageCommands(committer)
                    folder_id = (
                        await storage.register(org_id, "local", roots, "Bench", actor)
                    ).aggregate_id
                    started = time.perf_counter()
                    cpu_before = cpu_seconds(workers[0].pid)
                    await storage.start_sync(folder_id, "full", "bench")
                    while not await completed(platform.pool, folder_id):
                        await publish_everything(platform)  # the file batches, to Kafka
                        await asyncio.sleep(0.2)
                    await publish_everything(platform)
                    while stored(store) < 2 * count:
                        await asyncio.sleep(0.25)
                    seconds = time.perf_counter() - started
                    cpu = cpu_seconds(workers[0].pid) - cpu_before
                memory = peak_rss_mb(workers[0].pid)
            finally:
                for worker in workers:
                    await asyncio.to_thread(stop, worker)
    finally:
        shutil.rmtree(store, ignore_errors=True)
    per_core = count / cpu
    say(
        f"  worker: {count} files in {seconds:.1f} s on {cores} cores "
        f"({count / seconds:.2f} files/s), {cpu:.1f} CPU-seconds "
        f"({per_core:.2f} files per CPU-second), peak memory {memory:.0f} MB"
    )
    return [
        Figure(
            NAME,
            f"renditions per CPU-second, {count} files of {size[0] * size[1] / 1e6:.0f} MP",
            per_core,
            "files/CPU-s",
            "bare render(), one thread",
            baseline,
            goal="ratio >= 0.8, < 500 MB",
            met=per_core / baseline >= 0.8 and memory < 500,
            detail=f"worker peak memory {memory:.0f} MB; {count / seconds:.2f} files/s wall "
            f"on {cores} cores; thumbnail and preview per file",
        )
    ]
