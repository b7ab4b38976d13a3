"""Projections whose rows are folded from events in memory, then written set-based.

Their ``apply`` is three steps: load the rows the events touch, fold the events onto them,
write the rows that changed with one ``COPY`` and one merge. Splitting the steps lets a rebuild
fold many batches in memory before it writes anything (``projections.rebuild``): its tables
start empty, so each row is written once instead of once per batch, and copied straight into
its table instead of merged.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

import asyncpg

from broker.envelope import Event
from projections.base import Projection

K = TypeVar("K", bound=Hashable)
Row = Any
"""Whatever the projection keeps per key; None in a fold's result means the row is removed."""


class FoldedProjection(Projection, Generic[K]):
    """A read table of rows keyed by ``K``, each folded from the events that name its key."""

    fold_rows: ClassVar[int] = 200_000
    """Rows a rebuild holds in memory before it writes them. Checked after each fetched batch
    (whose rows and offsets are written together), so one batch's rows may come on top."""

    @abstractmethod
    def keys(self, event: Event) -> Iterable[K]:
        """The rows an event changes."""

    @abstractmethod
    async def load(self, conn: asyncpg.Connection, events: Sequence[Event]) -> dict[K, Row]:
        """The stored rows these events change (those that exist)."""

    @abstractmethod
    def fold(self, rows: dict[K, Row], events: Sequence[Event]) -> set[K]:
        """Fold the events, in order, onto ``rows`` (in place); return the keys changed.

        ``rows`` holds every stored row the events change; a key it lacks has no row yet. A
        removed row stays in ``rows`` as None.
        """

    @abstractmethod
    async def write(
        self, conn: asyncpg.Connection, rows: Mapping[K, Row | None], *, fresh: bool
    ) -> None:
        """Store these rows, deleting those that are None.

        ``fresh``: the table holds none of these keys (a rebuild's first write of them), so
        the rows can be copied straight in, without a merge, and the removed ones skipped.
        """

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        rows = await self.load(conn, events)
        changed = self.fold(rows, events)
        if changed:
            await self.write(conn, {key: rows[key] for key in changed}, fresh=False)
