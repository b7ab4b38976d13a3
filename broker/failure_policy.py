"""What a consumer does when handling a message fails: wait out outages, park the poison.

- An outage (PostgreSQL, Kafka, Redis or a provider not answering) is retried with growing
  back-off for as long as it lasts: the message is never skipped.
- Any other error is the message's own: after ``attempts`` tries it is parked
  (``broker.parking``) and the consumer moves on to the next one.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import ConsumerRecord

from broker.parking import Message, ParkingLot, describe_error
from infra.outages import is_outage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    base: float = 0.5
    ceiling: float = 30.0

    def delay(self, attempt: int) -> float:
        """Exponential with full jitter, so restarted workers do not retry in step."""
        return random.uniform(0, min(self.ceiling, self.base * 2 ** max(0, attempt - 1)))


class OutageLog:
    """Says once that a dependency is down, then at a slow rate with how long it has been."""

    def __init__(self, what: str, every: float = 30.0) -> None:
        self._what = what
        self._every = every
        self._since: float | None = None
        self._said = 0.0

    def down(self, error: BaseException) -> None:
        now = time.monotonic()
        if self._since is None:
            self._since = self._said = now
            log.warning("%s: a dependency does not answer (%s); waiting", self._what, error)
        elif now - self._said >= self._every:
            self._said = now
            log.warning(
                "%s: still waiting for a dependency, %.0f s so far (%s)",
                self._what,
                now - self._since,
                error,
            )

    def up(self) -> None:
        if self._since is not None:
            log.warning(
                "%s: dependency back after %.0f s", self._what, time.monotonic() - self._since
            )
            self._since = None


class MessagePolicy:
    """Applies the failure policy around one message's handling."""

    def __init__(self, parking: ParkingLot, attempts: int, backoff: Backoff) -> None:
        self.parking = parking
        self._attempts = attempts
        self.backoff = backoff
        self._outage = OutageLog(parking.worker)
        self.failure: str | None = None
        """The error the worker is retrying right now, for its heartbeat; None when it flows."""
        self.parked = 0

    async def handle(self, message: Message, handler: Callable[[], Awaitable[object]]) -> bool:
        """Handle the message, retrying as the policy says; False if it was parked."""
        failures = 0
        outages = 0
        while True:
            try:
                await handler()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.failure = describe_error(error)
                if is_outage(error):
                    outages += 1
                    self._outage.down(error)
                    await asyncio.sleep(self.backoff.delay(outages))
                    continue
                failures += 1
                log.warning(
                    "%s: %s[%d]@%d failed (try %d of %d): %s",
                    self.parking.worker,
                    message.topic,
                    message.partition,
                    message.offset,
                    failures,
                    self._attempts,
                    self.failure,
                )
                if failures >= self._attempts:
                    await self._park(message, self.failure, failures)
                    self.failure = None  # parked: the worker flows again
                    return False
                await asyncio.sleep(self.backoff.delay(failures))
                continue
            self._outage.up()
            self.failure = None
            return True

    async def _park(self, message: Message, error: str, attempts: int) -> None:
        outages = 0
        while True:  # parking itself needs PostgreSQL and Kafka: wait for them like any outage
            try:
                await self.parking.park(message, error, attempts)
            except asyncio.CancelledError:
                raise
            except Exception as failure:
                if not is_outage(failure):
                    raise
                outages += 1
                self._outage.down(failure)
                await asyncio.sleep(self.backoff.delay(outages))
                continue
            self.parked += 1
            return


def message_of(record: ConsumerRecord[bytes, bytes]) -> Message:
    """The parts of an aiokafka record that parking keeps."""
    headers = tuple((k, bytes(v)) for k, v in record.headers)
    return Message(record.topic, record.partition, record.offset, record.key, record.value, headers)
