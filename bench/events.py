"""Recording many real events quickly, and relaying them all to Kafka against the clock.

Recording goes through the application's own ``save`` with many aggregates per call, as the
group committer does, so the stored events, notification log and topics are the real thing;
only the HTTP layer is skipped, because the relay and rebuild benchmarks are not about it.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from eventsourcing.application import Application

from broker.relay import Relay, RelaySource, make_producer
from domains.organization import Organization
from infra.settings import Settings


@cache
def _by_user_id() -> bool:
    """Whether the domain names the acting user by id (``owner_id``, ``actor_id``).

    The identity work replaces the free-text ``actor`` with user ids; the benchmarks must run
    on both sides of that change until it has landed everywhere.
    """
    return "owner_id" in inspect.signature(Organization.create).parameters


def new_org(name: str, owner: UUID) -> Organization:
    who: dict[str, Any] = {"owner_id": owner} if _by_user_id() else {"actor": "bench"}
    return Organization.create(name=name, **who)


def rename_org(org: Organization, name: str, owner: UUID) -> None:
    who: dict[str, Any] = {"actor_id": owner} if _by_user_id() else {"actor": "bench"}
    org.rename(name=name, **who)


def record_orgs(app: Application[UUID], orgs: int, renames: int, per_save: int = 1_000) -> int:
    """Create ``orgs`` studios, then rename each ``renames`` times; return the events recorded.

    Creations and each round of renames are separate transactions, so renames sit far from
    their creation in the log, as they would in a real history. The count comes from the log
    itself, since a creation may record more than one event (its owner's membership).
    """
    owner = uuid4()
    before = app.recorder.max_notification_id() or 0
    studios: list[Organization] = []
    for start in range(0, orgs, per_save):
        batch = [new_org(f"Studio {i}", owner) for i in range(start, min(orgs, start + per_save))]
        app.save(*batch)
        studios.extend(batch)
    for round_ in range(1, renames + 1):
        for start in range(0, orgs, per_save):
            batch = studios[start : start + per_save]
            for i, org in enumerate(batch, start):
                rename_org(org, f"Studio {i} r{round_}", owner)
            app.save(*batch)
    return (app.recorder.max_notification_id() or 0) - before


@dataclass(frozen=True)
class RelayRun:
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def relay_to_end(app: Application[UUID], settings: Settings, pool: asyncpg.Pool) -> RelayRun:
    """Run the real relay from its stored position until it reaches the log's current head.

    The producer is started before the clock starts, as the baseline's is; the clock stops when
    the relay has stored the head position, i.e. after Kafka acknowledged the last batch.
    """
    source = RelaySource(app, settings.topic_prefix)
    head = await asyncio.to_thread(source.head)
    producer = make_producer(settings.kafka_bootstrap)
    await producer.start()
    relay = Relay([source], pool, producer, settings.relay_batch_size)
    try:
        seconds = await run_to_head(relay, source.name, head)
    finally:
        await producer.stop()
    return RelayRun(relay.published, seconds)


async def run_to_head(relay: Relay, source: str, head: int) -> float:
    """Seconds the relay takes from its start to storing ``head`` for ``source``; it is then
    stopped. Fails if the relay stops first, or still reports lag at the head."""
    started = time.perf_counter()
    task = asyncio.create_task(relay.run())
    try:
        while relay.positions.get(source, 0) < head:
            if task.done():
                task.result()
                raise RuntimeError("the relay stopped before reaching the head")
            await asyncio.sleep(0.002)
        seconds = time.perf_counter() - started
        lag = await relay.lag()
        if lag:
            raise RuntimeError(f"the relay reached the head but still reports lag {lag}")
        return seconds
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
