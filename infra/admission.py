"""Admitting an authenticated request in one Redis round trip: revoked? within its rate?

Every request with a bearer token asks both questions. As two commands they cost two round
trips and two parses per request, about an eighth of the API's CPU under load (py-spy on
``make bench commands``); as one script they cost one. The keys are the ones the revocation
list and the rate limits use on their own, so a revocation and a counter stay one fact each.
"""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from redis.asyncio import Redis

from infra.revocations import Revocations
from queries.gate import RedisRateLimit

# KEYS: the session's and the user's revocation keys, then the window's counter.
# ARGV: the counter's lifetime in seconds. Answers {revoked keys found, requests counted}.
_ADMIT = """
local revoked = redis.call('EXISTS', KEYS[1], KEYS[2])
local count = redis.call('INCR', KEYS[3])
if count == 1 then redis.call('EXPIRE', KEYS[3], ARGV[1]) end
return {revoked, count}
"""


class RedisAdmission:
    def __init__(
        self, redis: Redis, revocations: Revocations, limits: Mapping[str, RedisRateLimit]
    ) -> None:
        self._revocations = revocations
        self._limits = dict(limits)
        self._admit = redis.register_script(_ADMIT)

    async def admit(self, user_id: UUID, session_id: UUID, bucket: str) -> bool:
        limit = self._limits[bucket]
        revoked, count = await self._admit(
            keys=[
                *self._revocations.keys_of(user_id, session_id),
                limit.counter(f"{bucket}:{user_id}"),
            ],
            args=[limit.counter_lifetime],
        )
        limit.check(int(count))
        return bool(revoked)
