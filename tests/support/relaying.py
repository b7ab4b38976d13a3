"""Running the relay in-process until everything recorded so far is on Kafka."""

from __future__ import annotations

import asyncio

from broker.relay import Relay, RelaySource, make_producer
from infra.bootstrap import Platform
from tests.support.waiting import eventually


async def publish_everything(platform: Platform) -> int:
    producer = make_producer(platform.settings.kafka_bootstrap)
    await producer.start()
    sources = [RelaySource(app, platform.settings.topic_prefix) for app in platform.applications()]
    relay = Relay(sources, platform.pool, producer, batch_size=2000)
    task = asyncio.create_task(relay.run())
    try:
        await eventually(
            relay.lag,
            lambda lag: lag == 0 and len(relay.positions) == len(sources),
            what="relay caught up",
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()
    return relay.published
