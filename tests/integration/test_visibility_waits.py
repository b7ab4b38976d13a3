"""Reads waiting for their writes: released when every read table has them, checked together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast
from uuid import UUID, uuid4

import asyncpg
import pytest

from broker.topics import ORGS
from infra.bootstrap import Platform
from projections.registry import subscribers_of
from queries.consistency import Token, VisibilityWaits
from queries.problems import Problem


class CountingPool:
    """The platform's pool, counting the connections taken from it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.acquired = 0

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        self.acquired += 1
        async with self._pool.acquire() as conn:
            yield conn


async def applied(pool: asyncpg.Pool, projection: str, aggregate_id: UUID, version: int) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO read.projection_versions (projection, aggregate_id, version) "
            "VALUES ($1, $2, $3) ON CONFLICT (projection, aggregate_id) "
            "DO UPDATE SET version = EXCLUDED.version",
            projection,
            aggregate_id,
            version,
        )


async def test_many_reads_wait_together_and_each_is_released_by_its_own_write(
    platform: Platform,
) -> None:
    projections = subscribers_of(ORGS.topic)
    assert len(projections) >= 2, "orgs feeds several read tables: each must have the write"
    counting = CountingPool(platform.pool)
    # checks 50 ms apart: a loaded machine writing the rows below for seconds still leaves
    # fewer checks than reads
    waits = VisibilityWaits(cast(asyncpg.Pool, counting), poll_seconds=0.05)
    writes = [Token(ORGS.name, uuid4(), 2) for _ in range(100)]
    reads = [asyncio.create_task(waits.wait(t, timeout=5.0)) for t in writes]
    await asyncio.sleep(0.05)
    assert not any(r.done() for r in reads), "nothing is visible yet"

    late = writes[0]
    for token in writes[1:]:
        for projection in projections:
            await applied(platform.pool, projection, token.aggregate_id, token.version)
    # the first write reached only one read table, and an older version in the other
    await applied(platform.pool, projections[0], late.aggregate_id, 2)
    await applied(platform.pool, projections[1], late.aggregate_id, 1)
    await asyncio.gather(*reads[1:])
    assert not reads[0].done(), "one read table still lacks version 2"

    for projection in projections:
        await applied(platform.pool, projection, late.aggregate_id, 3)
    await reads[0]
    # a read polling on its own took a connection per check: 100 reads, at least one each
    assert counting.acquired < len(writes), counting.acquired


async def test_a_write_that_never_shows_gives_up_with_409(platform: Platform) -> None:
    waits = VisibilityWaits(platform.pool)
    token = Token(ORGS.name, uuid4(), 1)
    with pytest.raises(Problem) as raised:
        await waits.wait(token, timeout=0.2)
    assert raised.value.status == 409
    assert raised.value.slug == "not-yet-consistent"


async def test_a_check_that_fails_reaches_every_waiting_read(platform: Platform) -> None:
    pool = await asyncpg.create_pool(platform.settings.database_url, min_size=1, max_size=1)
    waits = VisibilityWaits(pool)
    reads = [
        asyncio.create_task(waits.wait(Token(ORGS.name, uuid4(), 1), timeout=5.0)) for _ in range(3)
    ]
    await asyncio.sleep(0.02)
    await pool.close()
    results = await asyncio.wait_for(asyncio.gather(*reads, return_exceptions=True), 2.0)
    assert all(isinstance(r, asyncpg.InterfaceError) for r in results), results
