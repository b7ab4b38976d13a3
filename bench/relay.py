"""Relay throughput against a raw aiokafka producer sending the very same messages.

The relay reads the notification log, turns each event into an envelope, publishes and stores
its position per batch. The baseline sends the identical keys, values and headers with a
producer configured as the relay's (idempotent, acks=all), to another topic of the same world,
with nothing else to do: the gap between the two is what the relay's own work costs.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from uuid import UUID

import asyncpg
from eventsourcing.application import Application

from bench.cpu import CpuMeter
from bench.events import record_orgs, relay_to_end
from bench.report import Figure, Stopwatch, say
from broker.relay import Outgoing, RelaySource, make_producer
from broker.topics import FULL_SYNC_STORAGE
from commands.organizations import OrganizationApplication
from infra.eventstore import open_application
from tests.support.world import World

NAME = "relay"
GOAL_RATIO = 0.7


@dataclass(frozen=True)
class Sizes:
    orgs: int
    renames: int


def sizes(quick: bool) -> Sizes:
    return Sizes(5_000, 1) if quick else Sizes(25_000, 1)


def read_all(app: Application[UUID], topic_prefix: str, batch: int) -> list[Outgoing]:
    """Every event as the relay would send it, read once with the relay's own source."""
    source = RelaySource(app, topic_prefix)
    position, messages = 0, list[Outgoing]()
    while True:
        reached, outgoing = source.read(position, batch)
        if reached == position:
            return messages
        messages.extend(outgoing)
        position = reached


async def raw_send(bootstrap: str, topic: str, messages: list[Outgoing]) -> float:
    """Seconds for a bare producer to send every message and have all of them acknowledged."""
    producer = make_producer(bootstrap)  # a plain AIOKafkaProducer with the relay's settings
    await producer.start()
    try:
        started = time.perf_counter()
        sends = [
            await producer.send(topic, m.value, key=m.key, headers=m.headers) for m in messages
        ]
        await asyncio.gather(*sends)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def run(world: World, quick: bool) -> list[Figure]:
    size = sizes(quick)
    settings = world.settings
    app = await asyncio.to_thread(
        open_application, OrganizationApplication, settings, "organization"
    )
    pool = await asyncpg.create_pool(settings.database_url, min_size=2, max_size=4)
    try:
        with Stopwatch() as recording:
            events = await asyncio.to_thread(record_orgs, app, size.orgs, size.renames)
        say(
            f"  recorded {events:,} events in {recording.seconds:.1f} s "
            f"({events / recording.seconds:,.0f} events/s, 1,000 aggregates per save())"
        )
        with Stopwatch() as reading:
            messages = await asyncio.to_thread(
                read_all, app, settings.topic_prefix, settings.relay_batch_size
            )
        say(
            f"  reading the log into envelopes alone: {len(messages) / reading.seconds:,.0f} "
            f"events/s ({reading.seconds:.2f} s, single-threaded, no Kafka)"
        )
        with CpuMeter(settings.database_url) as cpu:
            raw_seconds = await raw_send(
                settings.kafka_bootstrap, world.topic(FULL_SYNC_STORAGE), messages
            )
        raw_rate = len(messages) / raw_seconds
        say(f"  baseline, raw producer: {raw_rate:,.0f} events/s ({raw_seconds:.2f} s)")
        say(f"      {cpu.describe()}")
        with CpuMeter(settings.database_url) as cpu:
            relayed = await relay_to_end(app, settings, pool)
        say(
            f"  relay: {relayed.rate:,.0f} events/s ({relayed.events:,} in {relayed.seconds:.2f} s,"
            f" batch {settings.relay_batch_size:,})"
        )
        say(f"      {cpu.describe()}")
    finally:
        await pool.close()
        app.close()
    if relayed.events != len(messages):
        raise RuntimeError(f"relayed {relayed.events} events, expected {len(messages)}")
    return [
        Figure(
            NAME,
            f"relay, {relayed.events:,} events",
            relayed.rate,
            "events/s",
            "raw AIOKafkaProducer, same messages",
            raw_rate,
            goal=f">= {GOAL_RATIO:g}x",
            met=relayed.rate >= GOAL_RATIO * raw_rate,
            detail=f"reading and encoding the log alone: {len(messages) / reading.seconds:,.0f}"
            " events/s",
        )
    ]
