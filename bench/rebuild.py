"""Projection rebuild rate against a raw consumer reading the same topic and doing nothing.

The events are recorded through the application and published by the real relay, so the topic
holds exactly what production would. The baseline is the ceiling any rebuild could reach: the
rebuild's own reader (``broker.partition_reader``: librdkafka) assigned every partition,
reading from the beginning to the end offsets it saw at the start, doing nothing else. The same
read by aiokafka, the live consumers' client, is shown beside it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer

from bench.cpu import CpuMeter
from bench.events import record_orgs, relay_to_end
from bench.report import Figure, Stopwatch, say
from broker.admin import partitions_of
from broker.envelope import decode_fast
from broker.partition_reader import PartitionReader
from broker.topics import ORGS
from commands.organizations import OrganizationApplication
from infra.eventstore import open_application
from projections.orgs import OrgsProjection
from projections.rebuild import RebuildReport, rebuild
from tests.support.world import World

NAME = "rebuild"
GOAL_RATE = 100_000.0
GOAL_RATIO = 0.5
READ_TIMEOUT_SECONDS = 120.0
RAW_BATCH = 20_000


@dataclass(frozen=True)
class Sizes:
    orgs: int
    renames: int
    batch_sizes: tuple[int, ...]


def sizes(quick: bool) -> Sizes:
    if quick:
        return Sizes(10_000, 1, (5_000, 20_000))
    return Sizes(50_000, 1, (2_000, 5_000, 20_000, 50_000))


async def raw_read(bootstrap: str, topic: str, decode_too: bool = False) -> tuple[int, float]:
    """Every record from the beginning to the current end; optionally decoded as envelopes
    (with ``decode_fast``, as the rebuild does).

    It is the rebuild's own reader (``PartitionReader``), and the clock includes opening it
    and asking for the partitions and offsets, as the rebuild's own clock does.
    """
    started = time.perf_counter()
    partitions = await partitions_of(bootstrap, [topic])
    count = 0
    async with PartitionReader(bootstrap, partitions) as reader:
        deadline = started + READ_TIMEOUT_SECONDS
        while not reader.finished:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{topic}: never reached the end of its partitions")
            for records in (await reader.read(RAW_BATCH)).values():
                count += len(records)
                if decode_too:
                    for record in records:
                        if record.value:
                            decode_fast(record.value)
    return count, time.perf_counter() - started


async def aiokafka_read(bootstrap: str, topic: str) -> tuple[int, float]:
    """The same read with aiokafka, the live consumers' client, in the same large fetches."""
    started = time.perf_counter()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=32 * 1024 * 1024,
    )
    await consumer.start()
    try:
        partitions = await partitions_of(bootstrap, [topic])
        consumer.assign(partitions)
        end = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if end[tp] > 0}
        count = 0
        deadline = started + READ_TIMEOUT_SECONDS
        while remaining:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{topic}: never reached the end of {sorted(remaining)}")
            fetched = await consumer.getmany(*remaining, timeout_ms=500)
            for tp, records in fetched.items():
                count += sum(1 for record in records if record.offset < end[tp])
                if records and records[-1].offset + 1 >= end[tp]:
                    remaining.discard(tp)
        return count, time.perf_counter() - started
    finally:
        await consumer.stop()


async def run(world: World, quick: bool) -> list[Figure]:
    size = sizes(quick)
    settings = world.settings
    topic = world.topic(ORGS.topic)
    app = await asyncio.to_thread(
        open_application, OrganizationApplication, settings, "organization"
    )
    pool = await asyncpg.create_pool(settings.database_url, min_size=2, max_size=8)
    try:
        with Stopwatch() as recording:
            events = await asyncio.to_thread(record_orgs, app, size.orgs, size.renames)
        relayed = await relay_to_end(app, settings, pool)
        say(
            f"  recorded {events:,} events in {recording.seconds:.1f} s; relayed them at "
            f"{relayed.rate:,.0f} events/s"
        )
        with CpuMeter(settings.database_url) as cpu:
            raws = [await raw_read(settings.kafka_bootstrap, topic) for _ in range(2)]
        count, raw_seconds = min(raws, key=lambda r: r[1])
        raw_rate = count / raw_seconds
        say(
            f"  baseline, raw read by the rebuild's reader: {raw_rate:,.0f} events/s ({count:,} "
            f"in {raw_seconds:.2f} s, best of 2)"
        )
        say(f"      {cpu.describe()}")
        aio_count, aio_seconds = min(
            [await aiokafka_read(settings.kafka_bootstrap, topic) for _ in range(2)],
            key=lambda r: r[1],
        )
        aio_rate = aio_count / aio_seconds
        say(f"  the same read with AIOKafkaConsumer: {aio_rate:,.0f} events/s (best of 2)")
        decoded, decode_seconds = await raw_read(settings.kafka_bootstrap, topic, decode_too=True)
        decode_rate = decoded / decode_seconds
        say(f"  raw consumer + Envelope decode only: {decode_rate:,.0f} events/s")
        reports: dict[int, RebuildReport] = {}
        for batch_size in size.batch_sizes:
            with CpuMeter(settings.database_url) as cpu:
                report = await rebuild(
                    OrgsProjection(),
                    pool,
                    settings.kafka_bootstrap,
                    batch_size,
                    topic_prefix=settings.topic_prefix,
                    progress=False,
                    database_url=settings.database_url,
                )
            reports[batch_size] = report
            say(
                f"  rebuild, batch_size {batch_size:>6,}: {report.rate:,.0f} events/s "
                f"({report.events:,} events, {report.applied:,} applied, {report.seconds:.2f} s, "
                f"{report.processes} processes)"
            )
            say(f"      {cpu.describe()}")
        async with pool.acquire() as conn:
            rows = await conn.fetchval("SELECT count(*) FROM read.orgs")
    finally:
        await pool.close()
        app.close()
    best_size, best = max(reports.items(), key=lambda item: item[1].rate)
    if best.events != count or rows != size.orgs:
        raise RuntimeError(f"rebuild read {best.events} of {count} events, {rows} rows")
    tried = ", ".join(f"{b:,}: {r.rate:,.0f}" for b, r in reports.items())
    return [
        Figure(
            NAME,
            f"rebuild orgs, {best.events:,} events, batch_size {best_size:,}",
            best.rate,
            "events/s",
            "raw read of the same topic by the rebuild's reader",
            raw_rate,
            goal=f">= {GOAL_RATE:,.0f}/s and >= {GOAL_RATIO:g}x",
            met=best.rate >= GOAL_RATE and best.rate >= GOAL_RATIO * raw_rate,
            detail=f"batch sizes tried (events/s): {tried}; reader + envelope decode alone: "
            f"{decode_rate:,.0f}/s; AIOKafkaConsumer raw: {aio_rate:,.0f}/s",
        )
    ]
