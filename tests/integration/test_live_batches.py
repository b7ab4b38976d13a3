"""How a live projection applies a batch: once, whole or not at all, from the stored offsets.

Projections commit without waiting for the disk, so a PostgreSQL crash can take back their
last commits (as can a rebuild stopped before its end): a worker, busy or idle, must then read
again from the stored offsets instead of going on past the lost events. A batch is a handful of
round trips at a light load, so none is spent where the answer is known.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition

from broker.topics import ORGS
from infra.bootstrap import Platform
from projections import positions
from projections import worker as worker_module
from projections.applier import OffsetsBehind, apply_records
from projections.orgs import OrgsProjection
from tests.support.projecting import orgs_worker
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


async def test_an_idle_worker_whose_stored_offsets_were_taken_back_starts_again(
    world: World, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild stopped before its end (or a PostgreSQL crash) took back what an idle worker
    applied: with no new event to trip on, it still finds out, and starts again from there."""
    monkeypatch.setattr(worker_module, "IDLE_CHECK_SECONDS", 0.2)
    producer = AIOKafkaProducer(bootstrap_servers=world.settings.kafka_bootstrap)
    await producer.start()
    try:
        for offset in range(3):
            record = created(offset)
            await producer.send_and_wait(
                world.topic(ORGS.topic), record.value, key=record.key, partition=0
            )
    finally:
        await producer.stop()
    worker = await orgs_worker(platform, world, batch_size=100)
    running = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(30):
            while worker.applied < 3:
                await asyncio.sleep(0.05)
        async with platform.pool.acquire() as conn:  # what a stopped rebuild leaves
            await conn.execute("DELETE FROM read.projection_offsets WHERE projection = 'orgs'")
            await conn.execute("TRUNCATE read.orgs")
        with pytest.raises(OffsetsBehind, match="stored at offset 0, this worker applied up to 3"):
            async with asyncio.timeout(10):
                await running
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_batch_of_new_studios_reads_no_rows_and_a_rename_reads_its_row(
    world: World, pool: asyncpg.Pool
) -> None:
    queries: list[str] = []

    async def log_queries(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(lambda record: queries.append(record.query))

    logged = await asyncpg.create_pool(
        world.settings.database_url, min_size=1, max_size=1, init=log_queries
    )
    projection = OrgsProjection()
    tp = TopicPartition(TOPIC, 0)
    first = created(0)
    renamed = orjson.dumps(
        {
            **orjson.loads(first.value or b""),
            "type": "OrganizationRenamed",
            "version": 2,
            "data": {"name": "Renamed"},
        }
    )
    second = ConsumerRecord(TOPIC, 0, 1, 0, 0, first.key, renamed, None, 16, len(renamed), [])
    try:
        assert await apply_records(logged, projection, {tp: [first]}) == 1
        assert not [q for q in queries if "FROM read.orgs" in q], "a new studio has no row"
        assert await apply_records(logged, projection, {tp: [second]}) == 1
        assert [q for q in queries if "FROM read.orgs" in q], "a rename folds onto its row"
    finally:
        await logged.close()
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT name FROM read.orgs") == "Renamed"
