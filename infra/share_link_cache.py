"""The share-link cache in Redis, shared by every API process (``commands.share_links``).

A kept copy is written only if no ``forget`` happened while it was being loaded: ``forget``
bumps a generation counter before deleting the copy, and the copy is set by a script that
compares the generation seen before the load with the current one. Without that, a request
that loaded the album just before a revoke could put the old link back after the revoke's
``forget``, and the revoked link would open the album again until the copy expired.

Redis away: checks load the album (slower, still right); a ``forget`` that fails is logged,
and the copy it could not delete lives at most ``ttl_seconds``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from commands.share_links import LoadFacts
from domains.share_link import ShareLinkFacts

log = logging.getLogger(__name__)

SET_UNLESS_FORGOTTEN = """
if (redis.call('GET', KEYS[2]) or '') == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
    return 1
end
return 0
"""


def _encode(facts: ShareLinkFacts) -> bytes:
    return orjson.dumps(
        {
            "album_id": str(facts.album_id),
            "org_id": str(facts.org_id),
            "token_hash": facts.token_hash,
            "expires_at": facts.expires_at.isoformat() if facts.expires_at else None,
            "archived": facts.archived,
            "allow_download": facts.allow_download,
            "watermark": facts.watermark,
        }
    )


def _decode(raw: bytes) -> ShareLinkFacts:
    data = orjson.loads(raw)
    expires = data["expires_at"]
    return ShareLinkFacts(
        album_id=UUID(data["album_id"]),
        org_id=UUID(data["org_id"]),
        token_hash=data["token_hash"],
        expires_at=datetime.fromisoformat(expires) if expires else None,
        archived=data["archived"],
        allow_download=data["allow_download"],
        watermark=data["watermark"],
    )


class RedisShareLinkCache:
    def __init__(self, redis: Redis, namespace: str, ttl_seconds: int = 30) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:share-link:"
        self._ttl = ttl_seconds
        self._set = redis.register_script(SET_UNLESS_FORGOTTEN)

    def _keys(self, album_id: UUID) -> tuple[str, str]:
        return f"{self._prefix}{album_id}", f"{self._prefix}{album_id}:generation"

    async def facts(self, album_id: UUID, load: LoadFacts) -> ShareLinkFacts:
        kept, generation = self._keys(album_id)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(kept)
                pipe.get(generation)
                raw, seen = await pipe.execute()
        except RedisError as error:
            log.warning("share-link cache not read: %s", error)
            return await load()
        if raw is not None:
            return _decode(raw)
        facts = await load()
        try:
            await self._set(keys=[kept, generation], args=[seen or b"", _encode(facts), self._ttl])
        except RedisError as error:
            log.warning("share-link cache not written: %s", error)
        return facts

    async def forget(self, album_id: UUID) -> None:
        kept, generation = self._keys(album_id)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(generation)
                pipe.expire(generation, 86_400)
                pipe.delete(kept)
                await pipe.execute()
        except RedisError as error:
            log.warning("share link of album %s not forgotten: %s", album_id, error)
