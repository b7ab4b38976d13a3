"""Stream tokens: how a browser's EventSource, which cannot send headers, opens a live stream.

A bearer token never goes in a URL (it would land in proxy logs and browser history for its
whole lifetime). Instead a signed-in caller trades it for a stream token: random, kept in Redis
(shared by every API process) under its hash for ``ttl`` seconds, and spent on first use, so a
token copied out of a log is worth nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from uuid import UUID

import orjson
from redis.asyncio import Redis

MAX_TOKEN_LENGTH = 128


@dataclass(frozen=True)
class StreamGrant:
    """Who a spent stream token was issued to."""

    user_id: UUID
    session_id: UUID


class StreamTokens:
    def __init__(self, redis: Redis, namespace: str, ttl_seconds: int = 60) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:stream-token:"
        self.ttl = ttl_seconds

    async def issue(self, user_id: UUID, session_id: UUID) -> str:
        token = secrets.token_urlsafe(32)
        grant = orjson.dumps({"user_id": str(user_id), "session_id": str(session_id)})
        await self._redis.set(self._key(token), grant, ex=self.ttl)
        return token

    async def redeem(self, token: str) -> StreamGrant | None:
        """The grant, once: a second use, an expired or a made-up token is None."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        raw = await self._redis.getdel(self._key(token))
        if raw is None:
            return None
        grant = orjson.loads(raw)
        return StreamGrant(UUID(grant["user_id"]), UUID(grant["session_id"]))

    def _key(self, token: str) -> str:
        return self._prefix + hashlib.sha256(token.encode()).hexdigest()
