"""What the HTTP layer needs from the write side, as protocols the composition root fills.

Routes depend on these shapes only, so the read side never imports an application service and
a unit test can hand the routes a small fake.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from uuid import UUID


class WriteResult(Protocol):
    @property
    def aggregate_id(self) -> UUID: ...

    @property
    def version(self) -> int: ...


class OrgCommandsPort(Protocol):
    async def create(self, name: str, actor: str) -> WriteResult: ...

    async def rename(
        self, org_id: UUID, name: str, actor: str, expected_version: int | None = None
    ) -> WriteResult: ...


class EventHistoryPort(Protocol):
    """The event store, read for auditors: what happened, and what an aggregate was."""

    async def org_of(self, stream: str, aggregate_id: UUID) -> UUID | None:
        """The aggregate's studio; raises NotFound when there is no such aggregate."""

    async def events(
        self, stream: str, aggregate_id: UUID, after_version: int, limit: int
    ) -> list[dict[str, Any]]: ...

    async def state(
        self, stream: str, aggregate_id: UUID, version: int | None, at: datetime | None
    ) -> dict[str, Any]: ...
