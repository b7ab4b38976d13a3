"""The failure policy and the supervisor, on pure asyncio with a fake parking lot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from broker.failure_policy import Backoff, MessagePolicy
from broker.parking import Message, ParkingLot
from infra.supervisor import StartAgain, Watchdog, WorkerState, supervise

FAST = Backoff(base=0.001, ceiling=0.002)
MESSAGE = Message("t", 0, 7, b"k", b"v")


class FakeParkingLot(ParkingLot):
    """Keeps what it parks; refuses while ``down`` (as PostgreSQL or Kafka would)."""

    def __init__(self) -> None:
        self.worker = "unit"
        self.parked: list[tuple[Message, str, int]] = []
        self.down = 0

    async def park(self, message: Message, error: str, attempts: int, conn: object = None) -> None:
        if self.down:
            self.down -= 1
            raise ConnectionRefusedError("kafka is down")
        self.parked.append((message, error, attempts))


class Flaky:
    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)


async def test_an_outage_is_retried_until_it_passes_and_never_parks() -> None:
    lot = FakeParkingLot()
    policy = MessagePolicy(lot, attempts=3, backoff=FAST)
    handler = Flaky(*[ConnectionResetError("postgres restarting")] * 10)
    assert await policy.handle(MESSAGE, handler) is True
    assert handler.calls == 11 and lot.parked == [] and policy.failure is None


async def test_a_message_that_keeps_failing_is_parked_after_its_attempts() -> None:
    lot = FakeParkingLot()
    lot.down = 2  # parking itself waits out an outage
    policy = MessagePolicy(lot, attempts=3, backoff=FAST)
    handler = Flaky(*[ValueError("a NUL in a name")] * 5)
    assert await policy.handle(MESSAGE, handler) is False
    assert handler.calls == 3
    [(message, error, attempts)] = lot.parked
    assert (message, attempts) == (MESSAGE, 3)
    assert error == "ValueError: a NUL in a name"


async def test_a_message_that_fails_once_then_applies_is_not_parked() -> None:
    lot = FakeParkingLot()
    policy = MessagePolicy(lot, attempts=3, backoff=FAST)
    assert await policy.handle(MESSAGE, Flaky(KeyError("row not there yet"))) is True
    assert lot.parked == []


async def test_a_failing_worker_restarts_while_its_sibling_keeps_running() -> None:
    runs: list[int] = []
    ticks: list[int] = []

    async def worker() -> None:
        runs.append(1)
        if len(runs) < 3:
            raise RuntimeError("boom")
        await asyncio.sleep(3600)

    async def sibling() -> None:
        while True:
            ticks.append(1)
            await asyncio.sleep(0.001)

    state = WorkerState()
    supervised = asyncio.create_task(supervise("unit", worker, state, backoff=FAST))
    other = asyncio.create_task(sibling())
    while len(runs) < 3:
        await asyncio.sleep(0.005)
    assert state.restarts == 2 and state.last_failure == "RuntimeError: boom"
    # the sibling ran beside the failures and still runs (counted, not timed: a busy CI
    # machine gives it fewer turns, never none)
    assert ticks and not other.done()
    seen = len(ticks)
    await asyncio.wait_for(_until(lambda: len(ticks) > seen), timeout=5)
    supervised.cancel()
    other.cancel()
    await asyncio.gather(supervised, other, return_exceptions=True)
    assert supervised.cancelled()


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.001)


async def test_the_watchdog_recreates_a_stalled_worker_only_while_dependencies_answer() -> None:
    runs: list[int] = []
    answering = [False]

    async def hangs() -> None:
        runs.append(1)
        await asyncio.sleep(3600)

    async def dependencies() -> bool:
        return answering[0]

    state = WorkerState()
    watchdog = Watchdog(lambda after: True, dependencies, after=0.0, every=0.005)
    task = asyncio.create_task(supervise("unit", hangs, state, watchdog, FAST))
    await asyncio.sleep(0.05)
    assert len(runs) == 1, "no restart while PostgreSQL does not answer"
    answering[0] = True
    while len(runs) < 2:
        await asyncio.sleep(0.005)
    assert state.last_failure is not None and state.last_failure.startswith("Stalled")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_worker_asking_to_start_again_gets_one_warning_line_not_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []

    async def behind() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise StartAgain("stored at offset 3, the batch starts at 5")
        await asyncio.sleep(3600)

    state = WorkerState()
    with caplog.at_level(logging.WARNING, logger="infra.supervisor"):
        task = asyncio.create_task(supervise("unit", behind, state, backoff=FAST))
        await asyncio.wait_for(_until(lambda: len(runs) == 2), timeout=5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    [record] = [r for r in caplog.records if r.name == "infra.supervisor"]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "stored at offset 3" in record.getMessage()
