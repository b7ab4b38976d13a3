"""The relay's builder process may die at any moment: nothing is lost, nothing reordered.

The builder is killed while the relay is publishing. The relay either carries on building in
its own process (nothing was waiting on the builder) or fails, as a worker does, and is
started again; either way every event reaches Kafka and each aggregate's events are first
seen in order.
"""

from __future__ import annotations

import asyncio
import os
import signal

from broker.relay import Relay, RelaySource, builder_for, make_producer
from broker.topics import ORGS
from infra.bootstrap import Platform
from tests.integration.test_relay import first_occurrences, versions_per_aggregate
from tests.support.kafka import read_topic
from tests.support.waiting import eventually
from tests.support.world import World
from tests.support.writes import create_and_rename, expected_pairs


async def run_until(relay: Relay, source: RelaySource, head: int) -> BaseException | None:
    """Run the relay until it has stored ``head``; what stopped it, if it stopped first."""
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(120):
            while relay.positions.get(source.name, 0) < head:
                if task.done():
                    return task.exception()
                await asyncio.sleep(0.01)
        return None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_killed_builder_process_loses_and_reorders_nothing(
    world: World, platform: Platform
) -> None:
    history = await create_and_rename(platform.apps["orgs"], orgs=1500, renames=3)
    source = RelaySource(platform.apps["orgs"], world.settings.topic_prefix)
    head = await asyncio.to_thread(source.head)
    producer = make_producer(world.settings.kafka_bootstrap)
    await producer.start()
    builder = builder_for([source])
    await builder.start()
    try:
        first = Relay([source], platform.pool, producer, batch_size=100, builder=builder)

        async def position() -> int:
            return first.positions.get(source.name, 0)

        async def kill_when_started() -> int:
            killed_at = await eventually(position, lambda p: p > 0, what="a first batch")
            assert builder.pid is not None
            os.kill(builder.pid, signal.SIGKILL)
            return killed_at

        killing = asyncio.create_task(kill_when_started())
        stopped = await run_until(first, source, head)
        assert await killing < head, "the relay finished before the kill: nothing was tested"
        if stopped is not None:  # as the supervisor does: a new relay, its own builder
            again = Relay([source], platform.pool, producer, batch_size=500)
            assert await run_until(again, source, head) is None
    finally:
        await builder.close()
        await producer.stop()

    messages = await read_topic(world.settings.kafka_bootstrap, world.topic(ORGS.topic))
    published = {(str(m.envelope["aggregate_id"]), m.envelope["version"]) for m in messages}
    assert published == expected_pairs(history)
    for org_id, versions in versions_per_aggregate(messages).items():
        assert first_occurrences(versions) == sorted(first_occurrences(versions)), org_id
