"""Rebuild: drop a projection's tables and replay its topics from the first event.

The rebuild holds the projection's advisory lock alone, so live workers of the same projection
pause rather than write into tables being rebuilt, and carry on from its offsets afterwards.

The partitions are shared out among ``processes`` replays (``projections.replay``): this
process replays one share, and a forked child each other share (``projections.replay_process``),
so a rebuild uses every core. An aggregate's key picks the same partition number on each of
the projection's topics, and shares go by partition number, so every aggregate's events are
replayed by one process, in order.

A share that fails stops the others, and the rebuild raises its error. A rebuild stopped or
failed before its end leaves the tables with part of the events and the offsets of what they
hold: live workers then start again from those offsets (``ProjectionWorker``), and running the
rebuild again finishes the job.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from aiokafka import TopicPartition
from tqdm import tqdm

from broker.admin import partitions_of
from infra.pg_sessions import session_lock
from projections import positions
from projections.applier import rebuild_lock_key
from projections.base import Projection
from projections.replay import ReplayCount, replay_share
from projections.replay_process import ChildReplay, start_child

PROGRESS_SECONDS = 0.2
"""How often the progress bar adds up the children's counts."""


@dataclass(frozen=True)
class RebuildReport:
    projection: str
    events: int
    applied: int
    seconds: float
    processes: int = 1

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def shares(partitions: Sequence[TopicPartition], processes: int) -> list[list[TopicPartition]]:
    """The partitions by partition number, dealt out to at most ``processes`` replays."""
    numbers = sorted({tp.partition for tp in partitions})
    count = max(1, min(processes, len(numbers)))
    share_of = {number: i % count for i, number in enumerate(numbers)}
    dealt: list[list[TopicPartition]] = [[] for _ in range(count)]
    for tp in sorted(partitions, key=lambda tp: (tp.partition, tp.topic)):
        dealt[share_of[tp.partition]].append(tp)
    return dealt


async def rebuild(
    projection: Projection,
    pool: asyncpg.Pool,
    bootstrap: str,
    batch_size: int,
    *,
    topic_prefix: str = "",
    progress: bool = True,
    database_url: str | None = None,
    processes: int | None = None,
) -> RebuildReport:
    """Replay every event up to the topics' current end; show a progress bar if asked.

    With ``database_url``, ``processes`` replays share the partitions (one per core unless
    given); without it, this process replays them all.
    """
    started = time.perf_counter()
    wanted = 1 if database_url is None else processes or os.cpu_count() or 1
    async with session_lock(pool, rebuild_lock_key(projection.name), wait=True):
        async with pool.acquire() as conn, conn.transaction():
            await positions.create_schema(conn)
            await projection.drop_tables(conn)
            await positions.forget(conn, projection.name)
            await projection.create_tables(conn)
        partitions = await partitions_of(bootstrap, [topic_prefix + t for t in projection.topics])
        dealt = shares(partitions, wanted)
        children: list[ChildReplay] = []
        try:
            if database_url is not None:
                children = [
                    start_child(projection, database_url, bootstrap, share, batch_size)
                    for share in dealt[1:]
                ]
            count = await _replay_with_bar(
                projection, pool, bootstrap, dealt[0], batch_size, children, progress
            )
        finally:
            for child in children:
                await child.stop()
    return RebuildReport(
        projection.name,
        count.events,
        count.applied,
        time.perf_counter() - started,
        len(dealt),
    )


async def _replay_with_bar(
    projection: Projection,
    pool: asyncpg.Pool,
    bootstrap: str,
    partitions: Sequence[TopicPartition],
    batch_size: int,
    children: list[ChildReplay],
    progress: bool,
) -> ReplayCount:
    """This process's share beside the children's, one bar for all of them; the counts of all."""
    own = ReplayCount()
    own_total: list[int] = []
    with tqdm(
        unit="ev", desc=f"rebuild {projection.name}", disable=not progress, unit_scale=True
    ) as bar:

        def show() -> None:
            totals = [child.total for child in children]
            if own_total and None not in totals:
                bar.total = own_total[0] + sum(t or 0 for t in totals)
            bar.n = own.events + sum(child.count.events for child in children)
            bar.refresh()

        def on_batch(events: int, applied: int) -> None:
            own.events += events
            own.applied += applied

        async def tick() -> None:
            while True:
                show()
                await asyncio.sleep(PROGRESS_SECONDS)

        ticker = asyncio.create_task(tick())
        try:
            # A share that fails stops the others at once (the TaskGroup cancels them, and
            # ``rebuild`` stops the children), raising the first failure as itself.
            async with asyncio.TaskGroup() as replays:
                replays.create_task(
                    replay_share(
                        projection,
                        pool,
                        bootstrap,
                        partitions,
                        batch_size,
                        own_total.append,
                        on_batch,
                    )
                )
                finishing = [replays.create_task(child.finished()) for child in children]
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from failed
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
        counts = [own, *(task.result() for task in finishing)]
        show()
    return ReplayCount(sum(c.events for c in counts), sum(c.applied for c in counts))
