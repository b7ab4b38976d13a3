"""Envelopes made by hand, for tests that feed projections exactly the events they need."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from broker.envelope import Envelope

START = datetime(2026, 1, 1, tzinfo=UTC)


def event(
    aggregate: UUID, version: int, type_: str, data: dict[str, Any], actor: str | None = None
) -> Envelope:
    return Envelope(
        id=uuid4(),
        type=type_,
        stream="folders",
        aggregate_id=aggregate,
        version=version,
        org_id=UUID(int=1),
        occurred_at=START + timedelta(seconds=version),
        schema=1,
        actor=actor,
        data=data,
    )


def a_file(file_id: str, name: str) -> dict[str, Any]:
    return {
        "file_id": file_id,
        "name": name,
        "path": "/",
        "mime_type": "image/jpeg",
        "size": 10,
        "width": None,
        "height": 2,
        "taken_at": None,
        "checksum": f"sum-{name}",
        "modified_at": START.isoformat(),
    }
