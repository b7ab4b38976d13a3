"""Failed sign-ins counted per account, beside the gate's per-address limit.

The per-address limit alone lets someone guess one account's password from many addresses.
After ``limit`` failed password sign-ins for one email within the window, every sign-in for
that email answers 429 with ``Retry-After`` until the window (counted from the first failure)
has passed, even with the right password: the guesser learns nothing from trying. The count
lives in Redis, so every API process shares it; the key is a hash of the normalised email,
so Redis holds no addresses, and unknown emails count like known ones (no account probing).
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from domains.user import normalise_email
from queries.problems import Problem

WINDOW_SECONDS = 15 * 60


class FailedLogins:
    def __init__(
        self, redis: Redis, namespace: str, limit: int, window_seconds: int = WINDOW_SECONDS
    ) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:login-failures:"
        self._limit = limit
        self._window = window_seconds

    def _key(self, email: str) -> str:
        return self._prefix + hashlib.sha256(normalise_email(email).encode()).hexdigest()

    async def check(self, email: str) -> None:
        """Raise a 429 problem while the account has had ``limit`` failures in the window."""
        key = self._key(email)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.ttl(key)
            count, ttl = await pipe.execute()
        if count is not None and int(count) >= self._limit:
            retry = max(int(ttl), 1)
            raise Problem(
                429,
                "too-many-failed-sign-ins",
                "Too many failed sign-ins",
                f"this account had {self._limit} failed sign-ins within "
                f"{self._window // 60} minutes; retry in {retry} s",
                headers={"Retry-After": str(retry)},
            )

    async def failed(self, email: str) -> None:
        """Count one failure; the window starts at the first."""
        key = self._key(email)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, self._window, nx=True)
            await pipe.execute()

    async def succeeded(self, email: str) -> None:
        """A right password below the limit starts the count afresh."""
        await self._redis.delete(self._key(email))
