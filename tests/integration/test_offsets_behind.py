"""A projection whose stored offsets fell behind its batch does not apply it: it reads again.

Projections commit without waiting for the disk, so a PostgreSQL crash can take back their
last commits; a worker that lived through it would otherwise go on past the lost events.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import orjson
import pytest
from aiokafka import ConsumerRecord, TopicPartition

from projections import positions
from projections.applier import OffsetsBehind, apply_records
from projections.orgs import OrgsProjection
from tests.support.world import World

TOPIC = "organization.org"


@pytest.fixture
async def pool(world: World) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(world.settings.database_url, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await positions.create_schema(conn)
            await OrgsProjection().create_tables(conn)
        yield pool
    finally:
        await pool.close()


def created(offset: int) -> ConsumerRecord[bytes, bytes]:
    org = uuid.uuid4()
    value = orjson.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": "OrganizationCreated",
            "stream": "orgs",
            "aggregate_id": str(org),
            "version": 1,
            "org_id": str(org),
            "occurred_at": datetime.now(UTC).isoformat(),
            "schema": 1,
            "actor": None,
            "data": {"name": f"Studio {offset}", "owner_id": str(uuid.uuid4())},
        }
    )
    return ConsumerRecord(TOPIC, 0, offset, 0, 0, org.bytes, value, None, 16, len(value), [])


async def stored(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return int(
            await conn.fetchval(
                "SELECT next_offset FROM read.projection_offsets WHERE projection = 'orgs'"
            )
        )


async def test_a_batch_past_the_stored_offsets_is_refused_and_nothing_moves(
    pool: asyncpg.Pool,
) -> None:
    projection = OrgsProjection()
    tp = TopicPartition(TOPIC, 0)
    log = [created(offset) for offset in range(7)]
    assert await apply_records(pool, projection, {tp: log[:5]}) == 5
    assert await stored(pool) == 5
    async with pool.acquire() as conn:  # the last commits were lost with a crash
        await conn.execute("UPDATE read.projection_offsets SET next_offset = 3")
    with pytest.raises(OffsetsBehind, match="stored at offset 3, the batch starts at 5"):
        await apply_records(pool, projection, {tp: log[5:]})
    assert await stored(pool) == 3
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM read.orgs") == 5
    # read again from the stored offsets: the two applied before are skipped by version
    assert await apply_records(pool, projection, {tp: log[3:]}) == 2
    assert await stored(pool) == 7
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM read.orgs") == 7


async def test_a_batch_that_fails_leaves_nothing_locked_nor_half_written(
    pool: asyncpg.Pool,
) -> None:
    """Its BEGIN travels with the lock statement (``batch_transaction``): a failure rolls back
    the offsets' row locks too, or the next batch would wait on them for ever."""
    projection = OrgsProjection()
    tp = TopicPartition(TOPIC, 0)
    log = [created(offset) for offset in range(3)]
    assert await apply_records(pool, projection, {tp: log[:1]}) == 1
    unknown = orjson.loads(created(1).value or b"")
    renamed = orjson.dumps({**unknown, "type": "OrganizationRenamed", "version": 2})
    bad = ConsumerRecord(TOPIC, 0, 2, 0, 0, b"k", renamed, None, 16, len(renamed), [])
    with pytest.raises(AssertionError, match="OrganizationRenamed before OrganizationCreated"):
        await apply_records(pool, projection, {tp: [log[1], bad]})
    assert await stored(pool) == 1
    async with pool.acquire() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT count(*) FROM read.orgs") == 1
    async with asyncio.timeout(10):  # the failed batch's locks are gone
        assert await apply_records(pool, projection, {tp: log[1:2]}) == 1
    assert await stored(pool) == 2
