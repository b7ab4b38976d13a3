"""Truncated exponential backoff with full jitter, for providers that rate-limit us.

The delay before retry ``n`` (0-based) is uniform in ``[0, min(cap, base * 2**n)]``: full
jitter spreads the retries of many workers instead of having them hammer the API in step. The
random draw and the sleep are injectable so tests can check the delays without waiting.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Sleep = Callable[[float], Awaitable[None]]


def full_jitter(ceiling: float) -> float:
    return random.uniform(0.0, ceiling)


@dataclass(frozen=True)
class Backoff:
    base: float = 1.0
    cap: float = 32.0
    max_retries: int = 6
    jitter: Callable[[float], float] = full_jitter
    sleep: Sleep = field(default=asyncio.sleep)

    def ceiling(self, retry: int) -> float:
        """The most retry ``retry`` (0-based) may wait: doubling from ``base``, capped."""
        return min(self.cap, self.base * 2.0 ** min(retry, 62))

    def delay(self, retry: int) -> float:
        return self.jitter(self.ceiling(retry))

    async def wait(self, retry: int) -> None:
        await self.sleep(self.delay(retry))
