"""Revoked sessions and users, in Redis, so every API process refuses their tokens at once.

The events (SessionRevoked, Deactivated) are the record; these keys only make the refusal
immediate for the access tokens already handed out, and expire when those tokens would.
"""

from __future__ import annotations

from uuid import UUID

from redis.asyncio import Redis


class Revocations:
    def __init__(self, redis: Redis, namespace: str, ttl_seconds: int) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:revoked:"
        self._ttl = ttl_seconds

    async def revoke_session(self, session_id: UUID) -> None:
        await self._redis.set(f"{self._prefix}session:{session_id}", 1, ex=self._ttl)

    async def revoke_user(self, user_id: UUID) -> None:
        await self._redis.set(f"{self._prefix}user:{user_id}", 1, ex=self._ttl)

    async def is_revoked(self, user_id: UUID, session_id: UUID) -> bool:
        return bool(await self._redis.exists(*self.keys_of(user_id, session_id)))

    def keys_of(self, user_id: UUID, session_id: UUID) -> tuple[str, str]:
        """The keys whose presence revokes this session's tokens: the session's, the user's."""
        return f"{self._prefix}session:{session_id}", f"{self._prefix}user:{user_id}"
