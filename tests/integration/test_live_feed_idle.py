"""The live feed stops reading while no stream is open, and a stream opened later starts now."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
from aiokafka import AIOKafkaProducer

import broker.live_feed
from broker.live_feed import LiveFeed
from broker.topics import ALBUMS, ORGS
from tests.support.waiting import eventually
from tests.support.world import World


@pytest.fixture
async def producer(world: World) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(bootstrap_servers=world.settings.kafka_bootstrap)
    await kafka.start()
    try:
        yield kafka
    finally:
        await kafka.stop()


def envelope(org_id: str, version: int) -> bytes:
    return orjson.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": "OrganizationRenamed",
            "stream": "orgs",
            "aggregate_id": org_id,
            "version": version,
            "org_id": org_id,
            "occurred_at": "2026-12-01T10:00:00+00:00",
            "schema": 1,
            "data": {"name": f"v{version}"},
        }
    )


async def test_a_stream_opened_after_the_feed_paused_gets_what_follows_and_nothing_before(
    world: World, producer: AIOKafkaProducer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(broker.live_feed, "IDLE_AFTER", 0.2)
    prefix = world.settings.topic_prefix
    topic = prefix + ORGS.topic
    feed = LiveFeed(world.settings.kafka_bootstrap, [topic], prefix + ALBUMS.topic)
    running = asyncio.create_task(feed.run())

    async def assigned() -> bool:
        return bool(feed.partitions)

    async def reading() -> bool:
        return feed.ready.is_set()

    try:
        await eventually(assigned, bool, timeout=30, what="feed assigned")
        await eventually(reading, lambda r: not r, timeout=10, what="paused")
        org = str(uuid.uuid4())
        await producer.send_and_wait(topic, envelope(org, 1), key=org.encode())
        before = list(feed.vector)
        await asyncio.sleep(0.5)
        assert feed.vector == before, "a paused feed reads nothing"

        feed.want()  # a stream about to open
        await asyncio.wait_for(feed.ready.wait(), 10)
        assert sum(feed.vector) == sum(before) + 1, "it starts past what nobody watched"
        sub = feed.subscribe_members(frozenset({org}))
        await producer.send_and_wait(topic, envelope(org, 2), key=org.encode())
        delivered = await asyncio.wait_for(sub.queue.get(), 10)
        assert delivered.envelope["version"] == 2
        assert sub.queue.empty()

        feed.unsubscribe(sub)
        await eventually(reading, lambda r: not r, timeout=10, what="idle again")
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
