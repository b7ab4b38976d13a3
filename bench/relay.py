"""Relay throughput against a raw aiokafka producer sending the very same messages.

The relay reads the notification log, turns each event into an envelope, publishes and stores
its position per batch; with two cores it builds the messages, and hashes their keys for the
producer's partitioner, in a second process (``broker.relay_process``), which is started
before the clock, as the producer is. The baseline sends the identical keys, values and
headers with a producer configured as the relay's (idempotent, acks=all), to another topic of
the same world, with nothing else to do: the gap between the two is what the relay's own work
costs.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from uuid import UUID

import asyncpg
from eventsourcing.application import Application

from bench.cpu import CpuMeter
from bench.events import RelayRun, record_orgs, run_to_head
from bench.report import Figure, Stopwatch, say
from broker.relay import Relay, RelaySource, builder_for, make_producer
from broker.relay_envelopes import Message
from broker.relay_process import key_hash
from broker.topics import FULL_SYNC_STORAGE
from commands.organizations import OrganizationApplication
from infra.eventstore import open_application
from infra.settings import Settings
from tests.support.world import World

NAME = "relay"
GOAL_RATIO = 0.7


@dataclass(frozen=True)
class Sizes:
    orgs: int
    renames: int


def sizes(quick: bool) -> Sizes:
    return Sizes(5_000, 1) if quick else Sizes(25_000, 1)


async def read_all(
    app: Application[UUID], topic_prefix: str, batch: int, pool: asyncpg.Pool
) -> list[Message]:
    """Every event as the relay would send it, read once as the relay reads (``fetch``), built
    in this process."""
    source = RelaySource(app, topic_prefix)
    position, messages = 0, list[Message]()
    async with pool.acquire() as conn:
        while True:
            read = await source.fetch(conn, position, batch)
            if read.reached == position:
                return messages
            messages.extend(read.messages)
            position = read.reached


async def raw_send(bootstrap: str, topic: str, messages: list[Message]) -> float:
    """Seconds for a bare producer to send every message and have all of them acknowledged."""
    producer = make_producer(bootstrap)  # a plain AIOKafkaProducer with the relay's settings
    await producer.start()
    try:
        started = time.perf_counter()
        sends = [
            await producer.send(topic, value, key=key, headers=headers)
            for _, key, value, headers in messages
        ]
        await asyncio.gather(*sends)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def relay_to_end(
    app: Application[UUID], settings: Settings, pool: asyncpg.Pool, in_process: bool
) -> RelayRun:
    """The real relay from its stored position until it has stored the log's current head.

    As ``bench.events.relay_to_end``, except that whatever the relay starts before its first
    batch is started before the clock, as the baseline's producer is: the producer, and (with
    ``in_process``) the process that builds the messages beside the one that sends them.
    """
    source = RelaySource(app, settings.topic_prefix)
    head = await asyncio.to_thread(source.head)
    producer = make_producer(settings.kafka_bootstrap)
    await producer.start()
    builder = builder_for([source]) if in_process else None
    if builder is not None:
        await builder.start()
    relay = Relay(
        [source],
        pool,
        producer,
        settings.relay_batch_size,
        builder=builder,
        build_in_process=in_process,
    )
    try:
        seconds = await run_to_head(relay, source.name, head)
    finally:
        if builder is not None:
            await builder.close()
        await producer.stop()
    return RelayRun(relay.published, seconds)


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
            messages = await read_all(app, settings.topic_prefix, settings.relay_batch_size, pool)
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
            relayed = await relay_to_end(app, settings, pool, in_process=True)
        say(
            f"  relay: {relayed.rate:,.0f} events/s ({relayed.events:,} in {relayed.seconds:.2f} s,"
            f" batch {settings.relay_batch_size:,})"
        )
        say(f"      {cpu.describe()}")
        # for comparison only: the same relay building in its own process, as on one core
        async with pool.acquire() as conn:
            await conn.execute("DELETE FROM relay.positions")
        key_hash.cache_clear()  # reading the log alone above hashed every key here already
        with CpuMeter(settings.database_url) as cpu:
            alone = await relay_to_end(app, settings, pool, in_process=False)
        say(
            f"  relay building in its own process (as on one core): {alone.rate:,.0f} events/s"
            f" ({alone.rate / raw_rate:.2f}x)"
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
            " events/s; the relay builds the messages (and hashes their keys for the"
            " partitioner) in a second process",
        )
    ]
