"""The share-link cache on the real Redis: kept copies, forgotten at once, never put back stale."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from redis.asyncio import Redis

from domains.share_link import ShareLinkFacts
from infra.settings import Settings
from infra.share_link_cache import RedisShareLinkCache


@pytest.fixture
async def cache(stack: None) -> AsyncIterator[RedisShareLinkCache]:
    client = Redis.from_url(Settings().redis_url)
    yield RedisShareLinkCache(client, f"test-{uuid.uuid4().hex[:8]}")
    await client.aclose()


def _facts(album_id: UUID, token_hash: str | None = "h1") -> ShareLinkFacts:
    return ShareLinkFacts(
        album_id=album_id,
        org_id=uuid.uuid4(),
        token_hash=token_hash,
        expires_at=datetime.now(UTC) + timedelta(days=1),
        archived=False,
        allow_download=True,
        watermark=True,
    )


class Album:
    """The event store's side: counts the loads, answers the album's current facts."""

    def __init__(self, facts: ShareLinkFacts) -> None:
        self.facts, self.loads = facts, 0

    async def load(self) -> ShareLinkFacts:
        self.loads += 1
        return self.facts


async def test_a_kept_copy_answers_until_the_link_changes(cache: RedisShareLinkCache) -> None:
    album = Album(_facts(uuid.uuid4()))
    first = await cache.facts(album.facts.album_id, album.load)
    again = await cache.facts(album.facts.album_id, album.load)
    assert first == again == album.facts, "the copy reads back exactly (dates, ids, switches)"
    assert album.loads == 1

    album.facts = _facts(album.facts.album_id, token_hash=None)  # revoked
    await cache.forget(album.facts.album_id)
    after = await cache.facts(album.facts.album_id, album.load)
    assert after.token_hash is None and album.loads == 2, "the next check sees the revoke"


async def test_a_load_that_raced_a_forget_is_not_kept(cache: RedisShareLinkCache) -> None:
    album_id = uuid.uuid4()
    old, new = _facts(album_id, "old"), _facts(album_id, None)
    loading, forgotten = asyncio.Event(), asyncio.Event()

    async def slow_old_load() -> ShareLinkFacts:
        loading.set()
        await forgotten.wait()  # the revoke commits and forgets while this load is under way
        return old

    reader = asyncio.create_task(cache.facts(album_id, slow_old_load))
    await loading.wait()
    await cache.forget(album_id)
    forgotten.set()
    assert (await reader).token_hash == "old", "that request answers what it loaded"
    album = Album(new)
    assert (await cache.facts(album_id, album.load)).token_hash is None
    assert album.loads == 1, "the stale copy was not kept: the next request loaded again"
