"""The relay publishes every recorded event, keyed and enveloped as the contract says."""

from __future__ import annotations

import signal
from collections import defaultdict

import asyncpg
from aiokafka.partitioner import DefaultPartitioner

from broker.admin import partitions_of
from broker.topics import ORGS
from infra.bootstrap import Platform
from tests.support.contract import ENVELOPE_FIELDS
from tests.support.kafka import Message, read_topic
from tests.support.relaying import publish_everything
from tests.support.waiting import eventually
from tests.support.world import World
from tests.support.writes import create_and_rename, expected_pairs, final_version


def versions_per_aggregate(messages: list[Message]) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = defaultdict(list)
    for m in sorted(messages, key=lambda m: (m.partition, m.offset)):
        seen[str(m.envelope["aggregate_id"])].append(int(str(m.envelope["version"])))
    return seen


def first_occurrences(versions: list[int]) -> list[int]:
    return list(dict.fromkeys(versions))


async def test_every_recorded_event_reaches_its_topic(world: World, platform: Platform) -> None:
    history = await create_and_rename(platform.apps["orgs"], orgs=120, renames=2)
    await publish_everything(platform)

    messages = await read_topic(world.settings.kafka_bootstrap, world.topic(ORGS.topic))
    assert {(str(m.envelope["aggregate_id"]), m.envelope["version"]) for m in messages} == (
        expected_pairs(history)
    )
    # the relay picks partitions itself from key hashes built elsewhere: the producer's own
    # partitioner must agree with every one of them
    partitions = sorted(
        tp.partition
        for tp in await partitions_of(world.settings.kafka_bootstrap, [world.topic(ORGS.topic)])
    )
    assert len(partitions) > 1, "one partition: nothing about partitioning was tested"
    for m in messages:
        assert m.partition == DefaultPartitioner()(m.key, partitions, partitions)
    assert len(messages) == len(expected_pairs(history)), "published more than once"
    for m in messages:
        assert m.key == str(m.envelope["aggregate_id"]).encode()
        assert m.headers["type"] == str(m.envelope["type"]).encode()
        assert m.headers["id"] == str(m.envelope["id"]).encode()
        assert m.envelope["stream"] == "orgs"
        assert m.envelope["org_id"] == m.envelope["aggregate_id"]
        assert set(m.envelope) >= ENVELOPE_FIELDS
    by_aggregate = versions_per_aggregate(messages)
    for org_id, names in history.items():
        assert by_aggregate[str(org_id)] == list(range(1, final_version(names) + 1))
    renamed = [m for m in messages if m.envelope["type"] == "OrganizationRenamed"]
    published = {str(m.envelope["data"]["name"]) for m in renamed}  # type: ignore[index]
    assert published == {n for names in history.values() for n in names[1:]}


async def test_relay_killed_mid_stream_resumes_without_losing_an_event(
    world: World, platform: Platform
) -> None:
    history = await create_and_rename(platform.apps["orgs"], orgs=1500, renames=3)
    total = len(expected_pairs(history))

    async def position() -> int:
        conn = await asyncpg.connect(world.settings.database_url)
        try:
            value = (
                await conn.fetchval(
                    "SELECT position FROM relay.positions WHERE source = 'organizations'"
                )
                if await conn.fetchval("SELECT to_regclass('relay.positions')")
                else None
            )
        finally:
            await conn.close()
        return int(value or 0)

    relay = world.spawn("relay", log_name="relay-1", relay_batch_size="50")
    try:
        reached = await eventually(position, lambda p: p > 0, timeout=60, what="first batch")
    finally:
        relay.send_signal(signal.SIGKILL)
        relay.wait()
    assert reached < total, "the relay finished before it was killed: nothing was tested"

    relay = world.spawn("relay", log_name="relay-2", relay_batch_size="500")
    try:
        await eventually(position, lambda p: p >= total, timeout=120, what="relay caught up")
    finally:
        relay.send_signal(signal.SIGTERM)
        relay.wait(timeout=30)

    messages = await read_topic(world.settings.kafka_bootstrap, world.topic(ORGS.topic))
    published = {(str(m.envelope["aggregate_id"]), m.envelope["version"]) for m in messages}
    assert published == expected_pairs(history)
    for org_id, versions in versions_per_aggregate(messages).items():
        assert first_occurrences(versions) == sorted(first_occurrences(versions)), org_id
