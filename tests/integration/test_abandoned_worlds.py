"""A test world left behind by a run that was killed is dropped when the next world opens;
a world whose run is still going is left alone."""

from __future__ import annotations

import subprocess
import uuid

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from broker.admin import ensure_topics
from infra.settings import Settings
from tests.support import world_registry
from tests.support.world import drop_world, new_world


def ended_pid() -> int:
    """The pid of a process that has already ended."""
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


async def leave_world(settings: Settings, pid: int) -> world_registry.OpenWorld:
    """A database and a topic, noted as opened by ``pid``, as ``new_world`` notes its own."""
    tag = f"left{uuid.uuid4().hex[:8]}"
    world = world_registry.OpenWorld(tag, pid, f"pf_test_{tag}", [f"test-{tag}.probe"])
    world_registry.register(world)
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f'CREATE DATABASE "{world.database}"')
    finally:
        await conn.close()
    await ensure_topics(settings.kafka_bootstrap, dict.fromkeys(world.topics, 1))
    return world


async def still_there(settings: Settings, world: world_registry.OpenWorld) -> tuple[bool, bool]:
    """Whether its database, and its topic, exist."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        database = await conn.fetchval(
            "SELECT count(*) FROM pg_database WHERE datname = $1", world.database
        )
    finally:
        await conn.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        topics = set(await admin.list_topics())
    finally:
        await admin.close()
    return bool(database), world.topics[0] in topics


async def test_a_killed_runs_world_goes_when_the_next_opens_and_a_live_one_stays(
    stack: None,
) -> None:
    settings = Settings()
    killed = await leave_world(settings, ended_pid())
    running = await leave_world(settings, 1)  # pid 1 never ends
    try:
        assert await still_there(settings, killed) == (True, True)
        async with new_world():
            pass
        assert await still_there(settings, killed) == (False, False)
        assert killed.tag not in {w.tag for w in world_registry.abandoned()}
        assert not (world_registry.REGISTRY / killed.tag).exists()
        assert await still_there(settings, running) == (True, True)
    finally:
        world_registry.forget(running.tag)
        await drop_world(settings, running.database, settings.kafka_bootstrap, running.topics)
