"""Keeps each worker of a process running, whatever it meets.

A worker that fails is restarted by itself, with growing back-off, while the API and the other
workers go on serving; the process ends only on SIGTERM or SIGINT. A watchdog recreates a
worker that is behind yet has stopped moving while PostgreSQL answers: a Kafka client can hang
that way after losing its group coordinator, with no error to restart on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from broker.failure_policy import Backoff, OutageLog
from infra.outages import is_outage

log = logging.getLogger(__name__)

HEALTHY_AFTER = 60.0
"""A run that lasted this long resets the back-off: its next failure is a new one."""


class Stalled(Exception):
    """The watchdog found the worker behind and not moving."""


class StartAgain(Exception):
    """A worker asks to be started again from its stored state: no fault, worth one line.

    A projection whose stored offsets fell behind its batch (after a PostgreSQL crash, or a
    rebuild stopped before its end) is one (``projections.applier.OffsetsBehind``).
    """


@dataclass
class WorkerState:
    """What the worker's heartbeat reports about its supervision."""

    restarts: int = 0
    restarting: bool = False
    last_failure: str | None = None


@dataclass(frozen=True)
class Watchdog:
    stalled: Callable[[float], bool]
    """Whether the worker is behind and has not moved for that many seconds."""
    dependencies_answer: Callable[[], Awaitable[bool]]
    after: float
    every: float = 5.0


async def supervise(
    name: str,
    run: Callable[[], Coroutine[Any, Any, None]],
    state: WorkerState,
    watchdog: Watchdog | None = None,
    backoff: Backoff = Backoff(base=1.0, ceiling=30.0),  # noqa: B008 (frozen, shared safely)
) -> None:
    """Run ``run()`` until cancelled, starting it again after every failure or stall."""
    outage = OutageLog(name)
    failures = 0
    while True:
        started = time.monotonic()
        task = asyncio.create_task(run(), name=name)
        watching = asyncio.create_task(_watch(task, watchdog)) if watchdog else None
        error: BaseException
        try:
            await task
            error = RuntimeError("it returned, which a worker never should")
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the process is stopping
            error = Stalled(f"no progress for {watchdog.after if watchdog else 0:g} s")
        except Exception as failed:
            error = failed
        finally:
            if watching is not None:
                watching.cancel()
                await asyncio.gather(watching, return_exceptions=True)
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if time.monotonic() - started > HEALTHY_AFTER:
            failures = 0
        failures += 1
        state.restarts += 1
        state.restarting = True
        state.last_failure = f"{type(error).__name__}: {error}"
        if is_outage(error):
            outage.down(error)
        elif isinstance(error, Stalled | StartAgain):
            log.warning("%s: %s; recreating it", name, error)
        else:
            log.error("%s failed; restarting it", name, exc_info=error)
        await asyncio.sleep(max(backoff.base / 2, backoff.delay(failures)))
        state.restarting = False


async def _watch(task: asyncio.Task[None], watchdog: Watchdog) -> None:
    while not task.done():
        await asyncio.sleep(watchdog.every)
        if watchdog.stalled(watchdog.after) and await watchdog.dependencies_answer():
            task.cancel()
            return
