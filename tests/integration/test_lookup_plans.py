"""A projection's lookups stay one index probe per id, even on a plan cached while the table
was empty: the plan a worker's connection keeps must not come to read the whole table."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from projections import positions
from projections.memberships import MEMBERS_BY_KEY, MembershipsProjection
from tests.support.world import World


@pytest.fixture
async def conn(world: World) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(world.settings.database_url)
    await positions.create_schema(conn)
    await positions.upgrade(conn, MembershipsProjection())
    await conn.execute("CREATE SCHEMA IF NOT EXISTS ops")
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS ops.parked (worker text, aggregate_id uuid);"
        " CREATE INDEX ON ops.parked (aggregate_id, worker)"
    )
    # The plan a long-lived connection ends up keeping: made once, reused however rows grow.
    await conn.execute("SET plan_cache_mode = force_generic_plan")
    try:
        yield conn
    finally:
        await conn.close()


async def plan_after_growth(
    conn: asyncpg.Connection, statement: str, types: str, args: str, grow: str
) -> str:
    await conn.execute(f"PREPARE lookup({types}) AS {statement}")
    await conn.execute(f"EXPLAIN EXECUTE lookup({args})")  # planned on the empty table
    await conn.execute(grow)
    rows = await conn.fetch(f"EXPLAIN EXECUTE lookup({args})")
    return "\n".join(r[0] for r in rows)


async def test_the_versions_seen_are_looked_up_by_key(conn: asyncpg.Connection) -> None:
    plan = await plan_after_growth(
        conn,
        positions.SEEN_AND_HELD,
        "text, uuid[], text",
        "'orgs', ARRAY[gen_random_uuid(), gen_random_uuid()], 'projector'",
        "INSERT INTO read.projection_versions SELECT 'orgs', gen_random_uuid(), 1"
        " FROM generate_series(1, 20000)",
    )
    assert "Index Scan using projection_versions_pkey" in plan, plan
    assert "Hash" not in plan and "Seq Scan on projection_versions" not in plan, plan


async def test_the_members_folded_onto_are_looked_up_by_key(conn: asyncpg.Connection) -> None:
    plan = await plan_after_growth(
        conn,
        MEMBERS_BY_KEY,
        "uuid[], uuid[]",
        "ARRAY[gen_random_uuid()], ARRAY[gen_random_uuid()]",
        "INSERT INTO read.memberships (org_id, user_id, role, joined_at)"
        " SELECT gen_random_uuid(), gen_random_uuid(), 'owner', now()"
        " FROM generate_series(1, 20000)",
    )
    assert "Index Scan using memberships_pkey" in plan, plan
    assert "Hash" not in plan and "Seq Scan on memberships" not in plan, plan
