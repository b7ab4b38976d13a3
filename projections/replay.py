"""Replay one share of a projection's partitions, from their first offset to their current end.

A rebuild (``projections.rebuild``) runs one replay per share, each in its own process. Its
tables started empty and it holds the projection's lock alone, so a replay knows, without
asking PostgreSQL, which versions it applied and which rows exist.

Fetching and decoding overlap writing: one task reads Kafka and decodes each batch into a
small bounded queue, while the batches before it are written:

- a ``FoldedProjection`` folds batch after batch in memory and writes its rows when it holds
  ``fold_rows`` of them and at the end: rows new to the table are copied straight in, so a
  row is written once instead of once per batch and never merged;
- any other projection applies each batch in one transaction, by the code live workers run,
  with two writers on their own partitions: PostgreSQL writes one batch while Python prepares
  the other. An aggregate's events share a partition, so they still apply in version order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import asyncpg
from aiokafka import TopicPartition

from broker.envelope import Event, decode
from broker.partition_reader import PartitionReader, Record
from projections import positions
from projections.applier import (
    ASYNC_COMMIT,
    PIPELINE_DEPTH,
    Decoded,
    Fetched,
    Records,
    apply_records,
    batch_transaction,
    decode_records,
)
from projections.base import Projection
from projections.folded import FoldedProjection

WRITERS = 2
"""Transactions in flight at once for a projection applied batch by batch."""

Progress = Callable[[int, int], None]
"""Called with (events, applied) after each batch; a replay's events add up to its total."""


@dataclass
class ReplayCount:
    events: int = 0
    applied: int = 0


async def replay_share(
    projection: Projection,
    pool: asyncpg.Pool,
    bootstrap: str,
    partitions: Sequence[TopicPartition],
    batch_size: int,
    on_total: Callable[[int], None],
    on_batch: Progress,
) -> ReplayCount:
    """Replay these partitions up to the end offsets they have now."""
    if not partitions:
        on_total(0)
        return ReplayCount()
    async with PartitionReader(bootstrap, partitions) as reader:
        on_total(sum(reader.end[tp] - reader.first[tp] for tp in partitions))
        lanes = 1 if isinstance(projection, FoldedProjection) else WRITERS
        # By partition number: an aggregate's key picks the same number on each of the topics.
        lane_of = {tp: tp.partition % lanes for tp in partitions}
        queues: list[asyncio.Queue[Fetched | None]] = [
            asyncio.Queue(PIPELINE_DEPTH) for _ in range(lanes)
        ]

        async def fetch() -> None:
            while not reader.finished:
                shares: list[dict[TopicPartition, list[Record]]] = [{} for _ in range(lanes)]
                for tp, records in (await reader.read(batch_size * lanes)).items():
                    shares[lane_of[tp]][tp] = records
                for queue, share in zip(queues, shares, strict=True):
                    if share:
                        await queue.put((share, await decode_records(share)))
            for queue in queues:
                await queue.put(None)

        count = ReplayCount()
        seen: positions.Seen = {}  # aggregate -> version applied, across batches

        async def write(queue: asyncio.Queue[Fetched | None]) -> None:
            while (item := await queue.get()) is not None:
                batch, decoded = item
                new = await apply_records(pool, projection, batch, decoded=decoded, rebuilding=seen)
                _counted(count, _size(batch), new, on_batch)

        async def fold(queue: asyncio.Queue[Fetched | None]) -> None:
            assert isinstance(projection, FoldedProjection)
            folding = _Folding(projection, seen)
            while (item := await queue.get()) is not None:
                batch, decoded = item
                new = await folding.add(pool, batch, decoded)
                if folding.held >= projection.fold_rows:
                    await folding.write(pool)
                _counted(count, _size(batch), new, on_batch)
            await folding.write(pool)

        # A failure anywhere cancels the other tasks and is raised here, as itself.
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(fetch())
                for queue in queues:
                    tasks.create_task(fold(queue) if lanes == 1 else write(queue))
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from failed
        return count


@dataclass
class _Folding:
    """A folded projection's rows between two writes, and what the writes must store."""

    projection: FoldedProjection[Any]
    seen: positions.Seen
    rows: dict[Hashable, Any] = field(default_factory=dict)
    changed: set[Hashable] = field(default_factory=set)
    stored: set[Hashable] = field(default_factory=set)
    """Keys whose rows an earlier write stored: folding onto them needs them loaded."""
    versions: positions.Latest = field(default_factory=dict)
    versioned: set[int] = field(default_factory=set)
    """Aggregates whose version an earlier write stored."""
    reached: dict[positions.TopicPartitionKey, int] = field(default_factory=dict)

    @property
    def held(self) -> int:
        return len(self.rows)

    async def add(self, pool: asyncpg.Pool, batch: Records, decoded: Decoded) -> int:
        """Fold a batch's new events; return how many there were."""
        events: list[Event] = []
        for tp, records in batch.items():
            ahead = decoded.get(tp)
            if ahead is not None and None not in ahead:  # the usual case: all decoded ahead
                events.extend(cast(Sequence[Event], ahead))
            else:
                for i, record in enumerate(records):
                    if record.value:
                        envelope = ahead[i] if ahead is not None else None
                        events.append(envelope if envelope is not None else decode(record.value))
            if records:
                self.reached[(tp.topic, tp.partition)] = records[-1].offset + 1
        new = positions.newer_than(self.seen, events)
        self.versions.update(positions.latest_versions(new))
        if self.stored:  # rows written and dropped from memory: load those folded onto again
            keys, stored, rows = self.projection.keys, self.stored, self.rows
            again = [e for e in new if any(k in stored and k not in rows for k in keys(e))]
            if again:
                async with pool.acquire() as conn:
                    for key, row in (await self.projection.load(conn, again)).items():
                        self.rows.setdefault(key, row)
        self.changed |= self.projection.fold(self.rows, new)
        return len(new)

    async def write(self, pool: asyncpg.Pool) -> None:
        """Store the rows changed, the versions reached and the offsets, in one transaction;
        then forget the rows, so memory holds at most about ``fold_rows`` of them."""
        if not self.reached:
            return
        fresh = {k: self.rows[k] for k in self.changed if k not in self.stored}
        again = {k: self.rows[k] for k in self.changed if k in self.stored}
        # In the key's order (a UUID's int sorts as PostgreSQL sorts the uuid): copied in
        # random order, the versions' primary key took 160-190 ms per 25,000 rows, in order
        # 80-140 ms (the index maintenance is nearly all of it; without it, 28 ms).
        new_versions = [v for k, v in sorted(self.versions.items()) if k not in self.versioned]
        old_versions = [v for k, v in self.versions.items() if k in self.versioned]
        async with pool.acquire() as conn, batch_transaction(conn, f"SELECT {ASYNC_COMMIT}"):
            await self.projection.write(conn, fresh, fresh=True)
            await self.projection.write(conn, again, fresh=False)
            await positions.copy_versions(conn, self.projection.name, new_versions)
            await positions.record_latest(conn, self.projection.name, old_versions)
            await positions.lock_offsets(conn, self.projection.name, self.reached)
            await positions.save_offsets(conn, self.projection.name, self.reached)
        self.stored.update(k for k, row in fresh.items() if row is not None)
        self.stored.difference_update(k for k, row in again.items() if row is None)
        self.versioned.update(self.versions)
        self.rows.clear()
        self.changed.clear()
        self.versions.clear()


def _counted(count: ReplayCount, events: int, applied: int, on_batch: Progress) -> None:
    count.events += events
    count.applied += applied
    on_batch(events, applied)


def _size(batch: Records) -> int:
    return sum(len(records) for records in batch.values())
