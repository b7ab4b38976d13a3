"""Group commit: many concurrent commands, one transaction, each with its own outcome.

The eventsourcing PostgreSQL recorder locks its events table for every insert and waits for an
fsync per commit, so one save per command tops out near 600 commands/s however many clients
wait. Here one writer thread takes every command that queued while the previous transaction was
committing, runs each one's decision in turn against aggregates held for the batch (a second
command on the same aggregate sees the first one's result), and saves them all at once.

A batch that loses a race against another process (a version already taken) is replayed one
command at a time on freshly loaded aggregates, so only the commands that really conflict fail.

Large aggregates written from several processes (a 15,000-photo album picked by 100 guests
through two API processes) take a ``WriterLock`` around each batch: one process's writer at a
time loads (fast-forwarding its cached copy), decides and saves. Without it the two writers'
batches raced, the loser's album was evicted and reloaded (a snapshot and thousands of events)
and its commands replayed one by one while the other kept winning: picks took seconds and some
answered 503.

A command waits at most ``deadline`` seconds: when PostgreSQL stops answering, the caller gets
an outage error (503) in time instead of hanging through the driver's retries. A command still
queued then is withdrawn and never runs; only the batch already being written may still
commit once the database is back, as with any request whose answer was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import RecordConflictError

from domains.errors import ConcurrencyConflict, DomainError, NotFound

A = TypeVar("A", bound=Aggregate)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Written:
    """What a command changed: the aggregate and the version its events brought it to."""

    aggregate_id: UUID
    version: int


def mutated(aggregate: Any, events: Iterable[Any]) -> Any:
    """Each event applied to the aggregate in turn: the library's ``project_aggregate``
    without its per-event ``isinstance`` against a runtime-checkable Protocol, which cost a
    fifth of fast-forwarding an album that the other API process had just written."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def save_all(app: Application[UUID], aggregates: Iterable[Aggregate]) -> int:
    """``app.save(*aggregates)``, the same steps as eventsourcing 9.5's ``Application.save``,
    without ``ProcessingEvent.collect_events``: it tests every aggregate against two
    runtime-checkable Protocols, which Python 3.11 answers by walking each Protocol's
    attributes: about a twentieth of an API process's CPU under ``make bench commands``.

    Returns how many events were recorded."""
    processing: ProcessingEvent[UUID] = ProcessingEvent()
    for aggregate in aggregates:
        processing.events.extend(aggregate.collect_events())
        processing.aggregates[aggregate.id] = aggregate
    if not processing.events:  # every command refused: nothing to lock the table for
        return 0
    recordings = app._record(processing)
    try:
        app._take_snapshots(processing)
    except Exception:
        # The events are committed: the commands are done. Failing them now would answer
        # "not written" (a client retrying registers a second folder), or, for a snapshot
        # refused as a duplicate, replay the batch as a lost race and apply it twice. A
        # missing snapshot only makes loading the aggregate replay more events.
        log.warning("a snapshot after a committed batch failed; the batch stands", exc_info=True)
    app._notify(recordings)
    app.notify(processing.events)  # deprecated in the library, still called by its save()
    return len(processing.events)


class Batch:
    """The aggregates one batch of commands has loaded or created, by id."""

    def __init__(self, app: Application[UUID]) -> None:
        self._app = app
        self._aggregates: dict[UUID, Aggregate] = {}

    def get(self, cls: type[A], aggregate_id: UUID, expected_version: int | None = None) -> A:
        """Load an aggregate once per batch; check the caller's expected version if it gave one."""
        aggregate = self._aggregates.get(aggregate_id)
        if aggregate is None:
            try:
                aggregate = self._app.repository.get(aggregate_id, projector_func=mutated)
            except AggregateNotFoundError:
                raise NotFound(cls.__name__, aggregate_id) from None
            if not isinstance(aggregate, cls):
                raise NotFound(cls.__name__, aggregate_id)
            self._aggregates[aggregate_id] = aggregate
        if expected_version is not None and aggregate.version != expected_version:
            raise ConcurrencyConflict(
                f"{cls.__name__} {aggregate_id} is at version {aggregate.version}, "
                f"not {expected_version}: reload it and try again"
            )
        assert isinstance(aggregate, cls)
        return aggregate

    def add(self, aggregate: A) -> A:
        """Hold a new aggregate so the batch saves it."""
        if aggregate.id in self._aggregates:
            raise ConcurrencyConflict(f"{aggregate.id} was created by another command just now")
        self._aggregates[aggregate.id] = aggregate
        return aggregate

    def exists(self, aggregate_id: UUID) -> bool:
        """Whether the aggregate is recorded already, or created earlier in this batch."""
        return aggregate_id in self._aggregates or aggregate_id in self._app.repository

    def aggregates(self) -> list[Aggregate]:
        return list(self._aggregates.values())


Decision = Callable[[Batch], Aggregate]
Outcome = Written | Exception


@dataclass(frozen=True)
class BatchDone:
    """What one batch came to, for whoever watches the writers (``/metrics``)."""

    application: str
    commands: int
    """Commands the batch ran: the sum of the four outcomes below."""
    written: int
    refused: int
    """Commands the domain said no to (an invalid name, a missing album): nothing recorded."""
    conflicts: int
    """Commands refused as ``ConcurrencyConflict``: a stale If-Match, or a race lost to
    another writer on the same aggregate."""
    failed: int
    """Commands that ended in any other error, the database's included."""
    events: int
    """Events recorded by the batch's transaction (and by any commands replayed alone)."""
    withdrawn: int = 0
    """Commands whose callers gave up (past their deadline, or gone) while they were queued:
    they never ran. A database that stops answering shows here first."""

    def outcomes(self) -> dict[str, int]:
        """How many commands ended each way, by the outcome's name in ``/metrics``."""
        return {
            "written": self.written,
            "refused": self.refused,
            "conflict": self.conflicts,
            "failed": self.failed,
            "withdrawn": self.withdrawn,
        }


BatchObserver = Callable[[BatchDone], None]


class WriterLock(Protocol):
    """Held by one process's writer at a time, around a batch's loads, decisions and save.

    Called on the writer thread: blocking is expected. ``acquire`` raises when it cannot
    (the database is away, or the lock was not granted in time): the batch then fails as a
    whole, as when the save itself fails.
    """

    def acquire(self) -> None: ...

    def release(self) -> None: ...


EXPIRY_TICK_SECONDS = 0.05
"""How often commands past their deadline are failed: a deadline is kept within this."""


class CommandTimedOut(TimeoutError):
    """The event store did not answer within the command's deadline."""


class GroupCommitter:
    """Queues decisions and commits them in batches on one writer thread per application."""

    def __init__(
        self,
        app: Application[UUID],
        max_batch: int = 500,
        deadline: float | None = None,
        lock: WriterLock | None = None,
        observe: BatchObserver | None = None,
    ) -> None:
        self._app = app
        self._observe = observe
        self._max_batch = max_batch
        self._deadline = deadline
        self._lock = lock
        self.lost_races = 0
        """Batches whose save lost to another writer's (then replayed one command at a time)."""
        self._queue: asyncio.Queue[tuple[Decision, asyncio.Future[Outcome]]] = asyncio.Queue()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{app.name}-writer")
        self._waiting: deque[tuple[float, asyncio.Future[Outcome]]] = deque()
        """Each command's deadline (loop time) and future, oldest first."""
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False
        self._recorded = 0
        """Events the batch being written has recorded so far (the writer thread's count)."""

    async def __aenter__(self) -> GroupCommitter:
        name = f"{self._app.name}-group-commit"
        self._tasks = [asyncio.create_task(self._drain(), name=name)]
        if self._deadline is not None:
            expiry = self._expire(self._deadline)
            self._tasks.append(asyncio.create_task(expiry, name=f"{name}-deadlines"))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        while not self._queue.empty():  # never run: their callers must not wait forever
            _, future = self._queue.get_nowait()
            if not future.done():
                future.set_exception(CommandTimedOut("the writer stopped: not written"))
        self._writer.shutdown(wait=True)

    async def execute(self, decide: Decision) -> Written:
        """Run one command's decision in the next batch; raise its domain error if it failed.

        Past its deadline the command fails with ``CommandTimedOut``: still queued, it is
        withdrawn; already being written, its outcome is unknown, as with any request whose
        answer was lost. A caller cancelled while its command is queued withdraws it too.
        """
        if self._stopped:
            raise CommandTimedOut("the writer stopped: not written")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._queue.put_nowait((decide, future))
        if self._deadline is not None:
            self._waiting.append((loop.time() + self._deadline, future))
        outcome = await future
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def _expire(self, deadline: float) -> None:
        """Fail the commands past their deadline, a few times a second.

        One sweep for all of them instead of a timer (``wait_for`` and ``shield``: three futures
        and a timer handle) per command, which cost about 3 % of an API process's CPU under
        load. Every command has the same deadline, so they expire in the order they came.
        """
        loop = asyncio.get_running_loop()
        tick = min(EXPIRY_TICK_SECONDS, deadline / 4)
        while True:
            await asyncio.sleep(tick)
            now = loop.time()
            waiting = self._waiting
            while waiting and (waiting[0][1].done() or waiting[0][0] <= now):
                _, future = waiting.popleft()
                if not future.done():
                    future.set_exception(
                        CommandTimedOut(f"the event store did not answer within {deadline:g} s")
                    )

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            queued = [await self._queue.get()]
            while len(queued) < self._max_batch and not self._queue.empty():
                queued.append(self._queue.get_nowait())
            taken = len(queued)
            queued = [(decide, future) for decide, future in queued if not future.done()]
            withdrawn = taken - len(queued)
            if not queued:  # every caller gave up waiting: run none of them
                self._report(0, [], 0, withdrawn)
                continue
            decisions = [decide for decide, _ in queued]
            self._recorded = 0
            try:
                outcomes = await loop.run_in_executor(self._writer, self.commit, decisions)
            except (Exception, asyncio.CancelledError) as error:
                # The database failed: every caller learns it. Or the committer is stopping
                # while the batch is written: its outcome is unknown, as after a deadline.
                stopped = isinstance(error, asyncio.CancelledError)
                for _, future in queued:
                    if not future.done():
                        future.set_exception(
                            CommandTimedOut("the writer stopped: outcome unknown")
                            if stopped
                            else error
                        )
                if stopped:
                    raise
                self._report(len(queued), [], self._recorded, withdrawn)
                continue
            for (_, future), outcome in zip(queued, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)
            self._report(len(queued), outcomes, self._recorded, withdrawn)

    def _report(self, commands: int, outcomes: list[Outcome], events: int, withdrawn: int) -> None:
        """Tell the observer what the batch came to; a batch that raised failed as a whole."""
        if self._observe is None:
            return
        written = sum(isinstance(o, Written) for o in outcomes)
        conflicts = sum(isinstance(o, ConcurrencyConflict) for o in outcomes)
        refused = sum(isinstance(o, DomainError) for o in outcomes) - conflicts
        failed = commands - written - refused - conflicts
        done = BatchDone(
            self._app.name, commands, written, refused, conflicts, failed, events, withdrawn
        )
        try:
            self._observe(done)
        except Exception:  # counting must never cost a command its answer
            log.exception("the batch observer failed")

    def commit(self, decisions: list[Decision]) -> list[Outcome]:
        """Decide every command against one batch and save it in one transaction."""
        if self._lock is None:
            return self._commit(decisions)
        self._lock.acquire()
        try:
            return self._commit(decisions)
        finally:
            self._lock.release()

    def _commit(self, decisions: list[Decision]) -> list[Outcome]:
        batch = Batch(self._app)
        outcomes: list[Outcome] = []
        for decide in decisions:
            try:
                aggregate = decide(batch)
            except DomainError as refused:
                outcomes.append(refused)
            except Exception:
                # An unexpected error may have left a half-changed aggregate in the batch:
                # start again one command at a time so it harms no other command.
                self._forget(batch)
                return [self._commit_alone(decide) for decide in decisions]
            else:
                outcomes.append(Written(aggregate.id, aggregate.version))
        try:
            self._save(batch)
        except RecordConflictError:
            self.lost_races += 1
            self._forget(batch)
            return [self._commit_alone(decide) for decide in decisions]
        return outcomes

    def _commit_alone(self, decide: Decision) -> Outcome:
        batch = Batch(self._app)
        try:
            aggregate = decide(batch)
            self._save(batch)
        except RecordConflictError:
            self._forget(batch)
            return ConcurrencyConflict("another write to this aggregate won the race: retry")
        except DomainError as refused:
            return refused
        except Exception as failed:  # a bug that harms only this command
            self._forget(batch)
            return failed
        return Written(aggregate.id, aggregate.version)

    def _forget(self, batch: Batch) -> None:
        """Drop the batch's aggregates from the repository cache: they hold unsaved changes.

        Applications that skip the cache's deep copy (large aggregates, such as albums of
        15,000 photos) hand the batch the cached object itself; after a failed save it must
        be reloaded from the store.
        """
        cache = self._app.repository.cache
        if cache is None:
            return
        for aggregate in batch.aggregates():
            with contextlib.suppress(KeyError):
                cache.get(aggregate.id, evict=True)

    def _save(self, batch: Batch) -> None:
        aggregates = batch.aggregates()
        if not aggregates:
            return
        try:
            self._recorded += save_all(self._app, aggregates)
        except RecordConflictError:
            raise
        except Exception:
            self._forget(batch)  # not saved (the database failed): the cache must not keep it
            raise
