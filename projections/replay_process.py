"""A replay in a child process, so that a rebuild uses every core.

One Python process decodes and folds at most one core's worth of events; a rebuild gives each
further core a share of the partitions, replayed by a forked child. Forking (not spawning)
skips a second start of the interpreter and its imports, about a second of CPU: the child
starts at once, with the projection already in memory, and opens its own connections. It
never touches the parent's, and leaves through ``os._exit`` (as ``multiprocessing`` makes it),
so nothing of the parent's is closed or flushed twice.

The child reports through shared memory, which the parent reads for its progress bar: the
events it has to replay, those it replayed and those it applied.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import asyncpg
import uvloop
from aiokafka import TopicPartition

from projections.base import Projection
from projections.replay import ReplayCount, replay_share

_FORK = multiprocessing.get_context("fork")
STOP_SECONDS = 5.0
"""How long a child asked to stop gets before it is killed."""
ERROR_CHARS = 2_000
"""A child's error is cut to this, so it always fits the pipe while nobody reads it yet."""
TOTAL, EVENTS, APPLIED = range(3)
UNKNOWN = -1


class ReplayFailed(Exception):
    """A child's replay failed; the message is its error."""


@dataclass
class ChildReplay:
    process: BaseProcess
    counts: Any
    """Shared ``[total, events, applied]``; total is ``UNKNOWN`` until the child knows it."""
    errors: Connection

    @property
    def total(self) -> int | None:
        total = int(self.counts[TOTAL])
        return None if total == UNKNOWN else total

    @property
    def count(self) -> ReplayCount:
        return ReplayCount(int(self.counts[EVENTS]), int(self.counts[APPLIED]))

    async def finished(self) -> ReplayCount:
        """Wait for the child; its counts, or ``ReplayFailed`` with its error."""
        await asyncio.to_thread(self.process.join)
        if self.process.exitcode != 0:
            error = None
            with suppress(EOFError, OSError):  # killed: it said nothing
                error = self.errors.recv() if self.errors.poll() else None
            raise ReplayFailed(error or f"a replay process ended with {self.process.exitcode}")
        return self.count

    async def stop(self) -> None:
        """End the child if it still runs: asked first, then killed."""
        if self.process.is_alive():
            self.process.terminate()
            await asyncio.to_thread(self.process.join, STOP_SECONDS)
            if self.process.is_alive():
                self.process.kill()
        await asyncio.to_thread(self.process.join)


def start_child(
    projection: Projection,
    database_url: str,
    bootstrap: str,
    partitions: Sequence[TopicPartition],
    batch_size: int,
) -> ChildReplay:
    counts = _FORK.Array("q", [UNKNOWN, 0, 0], lock=False)
    errors, report = _FORK.Pipe(duplex=False)
    # What the parent has buffered must not be written a second time by the child's exit.
    sys.stdout.flush()
    sys.stderr.flush()
    # Forked, not pickled: the child runs this very call, with the projection already built.
    replay = partial(
        _replay, projection, database_url, bootstrap, list(partitions), batch_size, counts
    )
    process = _FORK.Process(
        target=_main,
        args=(replay, report),
        name=f"replay {projection.name}",
        daemon=True,  # ends with the rebuild that started it
    )
    process.start()
    report.close()
    return ChildReplay(process, counts, errors)


def _main(replay: Callable[[], Coroutine[Any, Any, None]], report: Connection) -> None:
    # The parent's event loop caught these signals for itself; in here they must end the
    # child (SIGTERM) or stop its replay (SIGINT), as in any process.
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        uvloop.run(replay())
    except BaseException as error:
        report.send(f"{type(error).__name__}: {error}"[:ERROR_CHARS])
        raise SystemExit(1) from error


async def _replay(
    projection: Projection,
    database_url: str,
    bootstrap: str,
    partitions: list[TopicPartition],
    batch_size: int,
    counts: Any,
) -> None:
    def on_total(total: int) -> None:
        counts[TOTAL] = total

    def on_batch(events: int, applied: int) -> None:
        counts[EVENTS] += events
        counts[APPLIED] += applied

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await replay_share(projection, pool, bootstrap, partitions, batch_size, on_total, on_batch)
    finally:
        await pool.close()
