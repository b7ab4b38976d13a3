"""What a projection is: a name, the topics it reads, its tables, and how a batch changes them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

import asyncpg

from broker.envelope import Event


class Projection(ABC):
    """A read model built from events.

    ``apply`` receives events that are new to this projection (never one twice, in version
    order per aggregate) inside the transaction that also stores the consumed offsets.
    """

    name: ClassVar[str]
    topics: ClassVar[tuple[str, ...]]
    tables: ClassVar[tuple[str, ...]]
    """Qualified table names, dropped by a rebuild."""
    schema_version: ClassVar[int] = 1
    """Bump when the tables' layout changes: they are then dropped and replayed at start."""

    @abstractmethod
    async def create_tables(self, conn: asyncpg.Connection) -> None: ...

    @abstractmethod
    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None: ...

    async def drop_tables(self, conn: asyncpg.Connection) -> None:
        for table in self.tables:
            await conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")


Statement = tuple[str, Callable[[Event], Sequence[Any]]]


@dataclass(frozen=True)
class Staging:
    """A session's temporary table that a batch's rows are copied into, then merged from.

    One ``COPY`` (binary, no per-row statement) and one set-based ``INSERT ... SELECT ... ON
    CONFLICT`` replace a statement per event: the cheap way to write thousands of rows a
    second. The table lives as long as the connection, and its rows as long as the transaction.
    Merges read it ``ORDER BY`` their key: index pages are then visited in order, and two
    transactions merging the same keys lock them in the same order (no deadlock).
    """

    name: str
    """Unqualified; it lives in the session's ``pg_temp`` schema."""
    columns: tuple[tuple[str, str], ...]
    """(name, SQL type) of each column, in the order of the rows given to ``load``."""

    @property
    def table(self) -> str:
        return f"pg_temp.{self.name}"

    async def load(self, conn: asyncpg.Connection, rows: Iterable[Sequence[Any]]) -> None:
        """Empty the table, then copy the rows into it (in the caller's transaction).

        It also turns JIT off for the rest of the transaction: the staging table has no
        statistics, and compiling a merge PostgreSQL guesses to be large took longer than it.
        """
        definition = ", ".join(f"{name} {kind}" for name, kind in self.columns)
        await conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {self.name} ({definition}) ON COMMIT DELETE ROWS;"
            f" DELETE FROM {self.table}; SET LOCAL jit = off"
        )
        await conn.copy_records_to_table(
            self.name,
            records=rows,
            columns=[name for name, _ in self.columns],
            schema_name="pg_temp",
        )

    async def merge(
        self, conn: asyncpg.Connection, rows: Sequence[Sequence[Any]], sql: str
    ) -> None:
        """Run ``sql``, one statement reading ``FROM`` this table, over ``rows``.

        Fewer than ``SET_BASED_FROM`` rows (a live worker's usual batch) travel as one array
        per column in the statement itself: one round trip instead of three (create and empty
        the table, copy, merge), each costing about as much CPU as such a batch's work.
        """
        if len(rows) >= SET_BASED_FROM:
            await self.load(conn, rows)
            await conn.execute(sql)
            return
        names = ", ".join(name for name, _ in self.columns)
        arrays = ", ".join(f"${i}::{kind}[]" for i, (_, kind) in enumerate(self.columns, 1))
        inline = sql.replace(f"FROM {self.table}", f"FROM unnest({arrays}) AS s({names})")
        await conn.execute(inline, *([row[i] for row in rows] for i in range(len(self.columns))))


SET_BASED_FROM = 32
"""Batches of at least this many events go in set-based where a projection offers it; smaller
ones (a live worker's usual handful) with a statement each, which is fewer round trips."""


class StatementProjection(Projection):
    """A projection that runs one SQL statement per event type, in order.

    For tables that change by a row or two per event (members, invitations, users), where
    folding a batch in memory would buy little.
    """

    statements: ClassVar[Mapping[str, Statement | tuple[Statement, ...]]]
    each_aggregate: ClassVar[Statement | None] = None
    """Run once per aggregate and batch, with its last event that has statements of its own
    (it sets what the last event leaves, such as the row's version: a pick batch of 100 on
    one album runs it once, not 100 times)."""

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        last: dict[UUID, Event] = {}
        run: list[Event] = []
        for event in events:
            if event.type not in self.statements:
                continue
            if run and run[0].type != event.type:
                await self._apply_run(conn, run)
                run = []
            run.append(event)
            last[event.aggregate_id] = event
        if run:
            await self._apply_run(conn, run)
        if self.each_aggregate is not None and last:
            sql, arguments = self.each_aggregate
            await conn.executemany(sql, [arguments(event) for event in last.values()])

    async def _apply_run(self, conn: asyncpg.Connection, run: list[Event]) -> None:
        """Consecutive events of one type: a type with one statement sends the whole run in
        one ``executemany`` (one round trip, and a fraction of asyncpg's cost per call: a batch
        of picks had spent half the projection process's CPU in ``execute``)."""
        found = self.statements[run[0].type]
        if isinstance(found[0], str):
            sql, arguments = found
            if len(run) > 1:
                await conn.executemany(sql, [arguments(event) for event in run])
            else:
                await conn.execute(sql, *arguments(run[0]))
            return
        for event in run:  # several statements: each event's in order, as they were written
            for sql, arguments in found:
                await conn.execute(sql, *arguments(event))
