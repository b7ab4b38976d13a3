"""Projections apply each event exactly once, survive a crash, and rebuild to the same table."""

from __future__ import annotations

import asyncio
import signal
from typing import Any
from uuid import uuid4

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer

from broker.envelope import event_id
from broker.topics import ORGS
from infra.bootstrap import Platform
from projections.orgs import OrgsProjection
from projections.rebuild import rebuild
from tests.support.projecting import orgs_worker
from tests.support.relaying import publish_everything
from tests.support.waiting import eventually
from tests.support.world import World
from tests.support.writes import create_and_rename, final_version

ORG_ROWS = "SELECT org_id, name, version, created_at, updated_at FROM read.orgs ORDER BY org_id"


async def rows(world: World, sql: str = ORG_ROWS) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(world.settings.database_url)
    try:
        if not await conn.fetchval("SELECT to_regclass('read.orgs')"):
            return []
        return [dict(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def test_projector_killed_mid_batch_ends_equal_to_a_fresh_rebuild(
    world: World, platform: Platform
) -> None:
    history = await create_and_rename(platform.apps["orgs"], orgs=2000, renames=2)
    await publish_everything(platform)
    applied = "SELECT count(*) AS n FROM read.projection_versions"

    async def applied_count() -> int:
        found = await rows(world, "SELECT to_regclass('read.projection_versions') IS NOT NULL AS t")
        return int((await rows(world, applied))[0]["n"]) if found and found[0]["t"] else 0

    projector = world.spawn(
        "projector", "orgs", log_name="projector-1", projection_batch_size="100"
    )
    try:
        partial = await eventually(applied_count, lambda n: n > 0, timeout=60, what="first batches")
    finally:
        projector.send_signal(signal.SIGKILL)
        projector.wait()
    assert partial < len(history), "the projector finished before it was killed"

    projector = world.spawn("projector", "orgs", log_name="projector-2")
    try:
        await eventually(
            applied_count, lambda n: n == len(history), timeout=120, what="projector caught up"
        )
    finally:
        projector.send_signal(signal.SIGTERM)
        projector.wait(timeout=30)

    after_crash = await rows(world)
    assert {r["org_id"]: (r["name"], r["version"]) for r in after_crash} == {
        org_id: (names[-1], final_version(names)) for org_id, names in history.items()
    }
    report = await rebuild(
        OrgsProjection(),
        platform.pool,
        world.settings.kafka_bootstrap,
        500,
        topic_prefix=world.settings.topic_prefix,
        progress=False,
    )
    assert report.events == sum(final_version(names) for names in history.values())
    assert await rows(world) == after_crash


async def test_the_same_event_twice_is_applied_once(world: World, platform: Platform) -> None:
    org_id = uuid4()

    def envelope(version: int, type_: str, name: str) -> bytes:
        return orjson.dumps(
            {
                "id": event_id(org_id, version),
                "type": type_,
                "stream": "orgs",
                "aggregate_id": org_id,
                "version": version,
                "org_id": org_id,
                "occurred_at": f"2026-01-0{version}T00:00:00Z",
                "schema": 1,
                "actor": "test",
                "data": {"name": name},
            }
        )

    sequence = [
        envelope(1, "OrganizationCreated", "First"),
        envelope(2, "OrganizationRenamed", "Second"),
        envelope(1, "OrganizationCreated", "First"),  # the relay republished after a crash
        envelope(2, "OrganizationRenamed", "Second"),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=world.settings.kafka_bootstrap)
    await producer.start()
    try:
        for value in sequence:
            await producer.send_and_wait(world.topic(ORGS.topic), value, key=str(org_id).encode())
    finally:
        await producer.stop()

    worker = await orgs_worker(platform, world, batch_size=1)
    task = asyncio.create_task(worker.run())

    async def consumed() -> int:
        return worker.consumed

    try:
        await eventually(consumed, lambda n: n >= len(sequence), what="all four consumed")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert worker.applied == 2
    [row] = await rows(world)
    assert (row["org_id"], row["name"], row["version"]) == (org_id, "Second", 2)
