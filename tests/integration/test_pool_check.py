"""The event store pings a connection only after it idled: a dead one is still never a lost save.

A backend killed while its connection idled in the pool is found by the check and replaced
before the save; one killed right after use is not checked, and the save goes through on
another connection by the recorder's retry. Both saves land; the pool's statistics say which
way each went.
"""

from __future__ import annotations

import asyncio
from uuid import uuid4

import asyncpg

from commands.organizations import OrganizationApplication
from domains.organization import Organization
from infra.pool_check import IDLE_SECONDS, check_when_idle
from tests.support.world import World


async def kill_every_other_backend(world: World) -> None:
    conn = await asyncpg.connect(world.settings.database_url)
    try:
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert killed >= 1, "the event store's pooled connection was not there to kill"
    finally:
        await conn.close()


async def save_one(app: OrganizationApplication) -> Organization:
    org = Organization.create(name="Pinged", owner_id=uuid4())
    await asyncio.to_thread(app.save, org)
    return org


def stored(app: OrganizationApplication, org: Organization) -> bool:
    app.repository.cache = None  # from the events table, not the cache the save filled
    return app.repository.get(org.id).version == org.version


def stats(app: OrganizationApplication) -> dict[str, int]:
    return dict(app.recorder.datastore.pool.get_stats())


async def test_a_connection_killed_while_it_idled_is_replaced_before_the_save(
    world: World, orgs_app: OrganizationApplication
) -> None:
    await save_one(orgs_app)
    await kill_every_other_backend(world)
    await asyncio.sleep(IDLE_SECONDS + 0.3)
    before = stats(orgs_app)
    org = await save_one(orgs_app)
    after = stats(orgs_app)
    assert after.get("connections_lost", 0) > before.get("connections_lost", 0), "checked"
    assert after.get("returns_bad", 0) == before.get("returns_bad", 0), "no statement failed"
    assert stored(orgs_app, org)


async def test_a_connection_killed_right_after_use_costs_a_retry_not_the_save(
    world: World, orgs_app: OrganizationApplication
) -> None:
    check_when_idle(orgs_app, idle_seconds=60)  # a loaded machine's pauses never reach it
    for _ in range(stats(orgs_app)["pool_size"] + 1):  # the pool hands its connections out in turn
        await save_one(orgs_app)
    await kill_every_other_backend(world)
    before = stats(orgs_app)
    org = await save_one(orgs_app)  # well within the idle time of its last use: not pinged
    after = stats(orgs_app)
    assert after.get("connections_lost", 0) == before.get("connections_lost", 0), "not checked"
    assert after.get("returns_bad", 0) > before.get("returns_bad", 0), "failed, then retried"
    assert stored(orgs_app, org)
