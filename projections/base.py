"""What a projection is: a name, the topics it reads, its tables, and how a batch changes them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import asyncpg

from broker.envelope import Envelope


class Projection(ABC):
    """A read model built from events.

    ``apply`` receives events that are new to this projection (never one twice, in version
    order per aggregate) inside the transaction that also stores the consumed offsets.
    """

    name: ClassVar[str]
    topics: ClassVar[tuple[str, ...]]
    tables: ClassVar[tuple[str, ...]]
    """Qualified table names, dropped by a rebuild."""

    @abstractmethod
    async def create_tables(self, conn: asyncpg.Connection) -> None: ...

    @abstractmethod
    async def apply(self, conn: asyncpg.Connection, events: Sequence[Envelope]) -> None: ...

    async def drop_tables(self, conn: asyncpg.Connection) -> None:
        for table in self.tables:
            await conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
