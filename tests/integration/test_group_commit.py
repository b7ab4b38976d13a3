"""Group commit across two writers on one event store: no lost update, one winner per race."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from uuid import uuid4

import asyncpg
import psycopg
import pytest

from commands.group_commit import (
    EXPIRY_TICK_SECONDS,
    Batch,
    BatchDone,
    CommandTimedOut,
    GroupCommitter,
)
from commands.organizations import OrganizationApplication, OrganizationCommands
from domains.errors import ConcurrencyConflict
from domains.organization import Organization
from infra.bootstrap import Platform
from infra.eventstore import open_application
from infra.writer_lock import PostgresWriterLock
from tests.support.world import World
from tests.support.writes import EVENTS_PER_CREATE, org_commands


@pytest.fixture
async def two_writers(
    world: World, platform: Platform
) -> AsyncIterator[tuple[OrganizationCommands, OrganizationCommands]]:
    """Two applications on one database, as two API processes would be."""
    other = await asyncio.to_thread(
        open_application, OrganizationApplication, world.settings, "organization"
    )
    try:
        async with GroupCommitter(platform.apps["orgs"]) as a, GroupCommitter(other) as b:
            yield org_commands(a), org_commands(b)
    finally:
        other.close()


async def test_unconditional_writes_from_two_processes_all_land(
    platform: Platform, two_writers: tuple[OrganizationCommands, OrganizationCommands]
) -> None:
    first, second = two_writers
    owner = uuid4()
    org = await first.create("Shared", actor_id=owner)
    results = await asyncio.gather(
        *(
            (first if i % 2 else second).rename(org.aggregate_id, f"Name {i}", actor_id=owner)
            for i in range(20)
        )
    )
    created = EVENTS_PER_CREATE
    assert sorted(r.version for r in results) == list(range(created + 1, created + 21))
    events = list(platform.apps["orgs"].events.get(org.aggregate_id))
    assert len(events) == created + 20
    renamed = {e.name for e in events[created:]}  # type: ignore[attr-defined]
    assert renamed == {f"Name {i}" for i in range(20)}


async def test_conditional_writes_racing_from_two_processes_have_one_winner(
    platform: Platform, two_writers: tuple[OrganizationCommands, OrganizationCommands]
) -> None:
    first, second = two_writers
    for round_ in range(5):
        owner = uuid4()
        org = await first.create(f"Contested {round_}", actor_id=owner)
        outcomes = await asyncio.gather(
            first.rename(org.aggregate_id, "A", owner, expected_version=org.version),
            second.rename(org.aggregate_id, "B", owner, expected_version=org.version),
            return_exceptions=True,
        )
        conflicts = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
        assert len(conflicts) == 1, outcomes
        stored = platform.apps["orgs"].repository.get(org.aggregate_id)
        assert isinstance(stored, Organization)
        assert stored.version == org.version + 1


async def test_one_bad_command_in_a_batch_fails_alone(
    platform: Platform, two_writers: tuple[OrganizationCommands, OrganizationCommands]
) -> None:
    first, _ = two_writers
    outcomes = await asyncio.gather(
        *(first.create(name, actor_id=uuid4()) for name in ["Good 1", "   ", "Good 2"]),
        return_exceptions=True,
    )
    assert [type(o).__name__ for o in outcomes] == ["Written", "InvalidValue", "Written"]


async def test_writers_sharing_a_writer_lock_never_race(world: World, platform: Platform) -> None:
    """Two processes' writers of one aggregate, one batch at a time: every batch is decided on
    the latest version (the cache fast-forwards under the lock), so none loses a race."""
    other = await asyncio.to_thread(
        open_application, OrganizationApplication, world.settings, "organization"
    )
    locks = [PostgresWriterLock(world.settings, "orgs-test") for _ in range(2)]
    try:
        async with (
            GroupCommitter(platform.apps["orgs"], lock=locks[0]) as a,
            GroupCommitter(other, lock=locks[1]) as b,
        ):
            first, second = org_commands(a), org_commands(b)
            owner = uuid4()
            org = await first.create("Shared", actor_id=owner)
            for round_ in range(10):
                await asyncio.gather(
                    *(
                        (first if i % 2 else second).rename(
                            org.aggregate_id, f"Name {round_}-{i}", actor_id=owner
                        )
                        for i in range(20)
                    )
                )
            assert a.lost_races == 0 and b.lost_races == 0
        stored = platform.apps["orgs"].repository.get(org.aggregate_id)
        assert stored.version == org.version + 200
    finally:
        for lock in locks:
            lock.close()
        other.close()


async def test_a_writer_lock_held_too_long_fails_the_batch_in_time(world: World) -> None:
    settings = world.settings.model_copy(update={"database_timeout_seconds": 0.5})
    holder, waiter = PostgresWriterLock(settings, "stuck"), PostgresWriterLock(settings, "stuck")
    try:
        await asyncio.to_thread(holder.acquire)
        with pytest.raises(psycopg.errors.LockNotAvailable):
            await asyncio.wait_for(asyncio.to_thread(waiter.acquire), 5)
        await asyncio.to_thread(holder.release)
        await asyncio.to_thread(waiter.acquire)  # a new session, granted once it is free
        await asyncio.to_thread(waiter.release)
    finally:
        holder.close()
        waiter.close()


async def test_a_writer_lock_whose_session_died_takes_a_new_one(world: World) -> None:
    """PostgreSQL restarted, or the session was killed: the next batch still gets the lock."""
    lock = PostgresWriterLock(world.settings, "killed")
    try:
        await asyncio.to_thread(lock.acquire)
        await asyncio.to_thread(lock.release)
        assert lock._conn is not None
        pid = lock._conn.info.backend_pid
        admin = await asyncpg.connect(world.settings.database_url)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        await asyncio.to_thread(lock.acquire)  # no error: a new session was granted it
        assert lock._conn is not None and lock._conn.info.backend_pid != pid
        await asyncio.to_thread(lock.release)
    finally:
        lock.close()


@dataclass
class StuckWriter:
    """A decision that holds the writer thread until released, and one to queue behind it;
    ``ran`` lists the ones the writer ran."""

    release: threading.Event = field(default_factory=threading.Event)
    ran: list[str] = field(default_factory=list)

    def stuck(self, batch: Batch) -> Organization:
        self.ran.append("stuck")
        self.release.wait(10)
        return batch.add(Organization.create("Stuck", uuid4()))

    def queued(self, batch: Batch) -> Organization:
        self.ran.append("queued")
        return batch.add(Organization.create("Queued", uuid4()))


@pytest.fixture
def writer() -> Iterator[StuckWriter]:
    stuck = StuckWriter()
    try:
        yield stuck
    finally:
        stuck.release.set()


async def test_commands_past_their_deadline_fail_in_time_and_a_queued_one_never_runs(
    orgs_app: OrganizationApplication, writer: StuckWriter
) -> None:
    """The writer is stuck on a batch: its command and the one queued behind it both answer
    ``CommandTimedOut`` within the deadline (plus one sweep), and the queued one is withdrawn:
    once the writer is free again it does not run."""
    deadline = 0.3
    heard: list[BatchDone] = []
    async with GroupCommitter(orgs_app, deadline=deadline, observe=heard.append) as committer:
        started = time.monotonic()
        first = asyncio.create_task(committer.execute(writer.stuck))
        await asyncio.sleep(0.05)  # the writer has taken the first alone
        second = asyncio.create_task(committer.execute(writer.queued))
        outcomes = await asyncio.gather(first, second, return_exceptions=True)
        waited = time.monotonic() - started
        writer.release.set()
        await asyncio.sleep(0.2)  # the writer is free: a withdrawn command would run now
    assert [type(o) for o in outcomes] == [CommandTimedOut, CommandTimedOut]
    assert deadline <= waited < deadline + 0.05 + EXPIRY_TICK_SECONDS + 0.2
    assert writer.ran == ["stuck"]
    # the stuck one ran (and was written once the writer was free); the queued one never did
    assert [(d.commands, d.written, d.withdrawn) for d in heard] == [(1, 1, 0), (0, 0, 1)]


async def test_stopping_the_committer_answers_every_caller_and_runs_nothing_queued(
    orgs_app: OrganizationApplication, writer: StuckWriter
) -> None:
    """At shutdown a command being written and one queued behind it both get an answer (their
    callers never hang, with no deadline set); the queued one never runs, nor does a later
    one."""
    committer = GroupCommitter(orgs_app)
    async with committer:
        first = asyncio.create_task(committer.execute(writer.stuck))
        await asyncio.sleep(0.05)  # the writer has taken the first alone
        second = asyncio.create_task(committer.execute(writer.queued))
        await asyncio.sleep(0.05)
        threading.Timer(0.3, writer.release.set).start()  # the writer thread ends its batch
    outcomes = await asyncio.wait_for(asyncio.gather(first, second, return_exceptions=True), 5)
    assert [type(o) for o in outcomes] == [CommandTimedOut, CommandTimedOut]
    with pytest.raises(CommandTimedOut):
        await committer.execute(writer.queued)
    assert writer.ran == ["stuck"]


async def test_the_observer_hears_what_each_batch_came_to(
    orgs_app: OrganizationApplication,
) -> None:
    """Written, refused by the domain, failed by a bug: each counted once, with the events the
    written ones recorded (what ``/metrics`` shows as commands and events per second)."""
    heard: list[BatchDone] = []

    def broken(batch: Batch) -> Organization:
        raise RuntimeError("a bug in one command")

    async with GroupCommitter(orgs_app, observe=heard.append) as committer:
        commands = org_commands(committer)
        outcomes = await asyncio.gather(
            commands.create("Good 1", actor_id=uuid4()),
            commands.create("   ", actor_id=uuid4()),
            committer.execute(broken),
            commands.create("Good 2", actor_id=uuid4()),
            return_exceptions=True,
        )
    names = [type(o).__name__ for o in outcomes]
    assert names == ["Written", "InvalidValue", "RuntimeError", "Written"]
    assert {done.application for done in heard} == {orgs_app.name}
    assert sum(done.commands for done in heard) == 4
    counted = [sum(getattr(done, f) for done in heard) for f in ("written", "refused", "failed")]
    assert counted == [2, 1, 1]
    assert sum(done.events for done in heard) == 2 * EVENTS_PER_CREATE


class RefusingLock:
    """A writer lock that is never granted: the database is away, as far as the batch knows."""

    def acquire(self) -> None:
        raise psycopg.OperationalError("the lock's session is gone")

    def release(self) -> None:
        raise AssertionError("never acquired")


async def test_the_observer_hears_one_transaction_a_conflict_and_a_failed_batch(
    orgs_app: OrganizationApplication,
) -> None:
    """Commands decided together are one batch and one transaction; a stale expected version
    is a conflict; a batch whose lock is refused fails every command in it, recording
    nothing."""
    heard: list[BatchDone] = []
    async with GroupCommitter(orgs_app, observe=heard.append) as committer:
        commands = org_commands(committer)
        owner = uuid4()
        first = await commands.create("First", actor_id=owner)
        heard.clear()
        created = await asyncio.gather(*(commands.create(f"S{i}", owner) for i in range(3)))
        assert len(created) == 3
        stale = commands.rename(
            first.aggregate_id, "Late", owner, expected_version=first.version - 1
        )
        with pytest.raises(ConcurrencyConflict):
            await stale
    together = [(d.commands, d.written, d.events) for d in heard[:-1]]
    assert sum(c for c, _, _ in together) == 3 and sum(w for _, w, _ in together) == 3
    assert sum(e for _, _, e in together) == 3 * EVENTS_PER_CREATE
    assert len(together) < 3, "three commands queued in one turn share a batch"
    assert heard[-1].conflicts == 1 and heard[-1].events == 0

    refused: list[BatchDone] = []
    async with GroupCommitter(orgs_app, lock=RefusingLock(), observe=refused.append) as locked:
        outcomes = await asyncio.gather(
            *(org_commands(locked).create(f"L{i}", uuid4()) for i in range(2)),
            return_exceptions=True,
        )
    assert all(isinstance(o, psycopg.OperationalError) for o in outcomes), outcomes
    assert sum(d.failed for d in refused) == 2 and sum(d.events for d in refused) == 0
