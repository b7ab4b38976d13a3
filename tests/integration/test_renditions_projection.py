"""``read.renditions`` from RenditionsMade batches, on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest

from broker.envelope import Envelope
from projections import positions
from projections.registry import all_projections
from projections.renditions import RenditionsProjection
from tests.support.world import World, new_world


@pytest.fixture
async def world(stack: None) -> AsyncIterator[World]:
    async with new_world() as w:
        yield w


def made(ready: list[str], failed: list[str]) -> Envelope:
    return Envelope(
        id=uuid4(),
        type="RenditionsMade",
        stream="renditions",
        aggregate_id=uuid4(),
        version=1,
        org_id=uuid4(),
        occurred_at=datetime.now(UTC),
        schema=1,
        data={
            "ready": [{"checksum": c, "sizes": {"thumbnail": [400, 300]}} for c in ready],
            "failed": [{"checksum": c, "reason": "not an image"} for c in failed],
        },
    )


async def test_copies_of_a_file_in_one_batch_make_one_row(world: World) -> None:
    """Copies share a checksum; before, PostgreSQL refused the batch and it was parked."""
    conn = await asyncpg.connect(world.settings.database_url)
    try:
        await positions.create_schema(conn)
        for each in all_projections().values():  # its tables join the files table
            await positions.upgrade(conn, each)
        projection = RenditionsProjection()
        async with conn.transaction():
            await projection.apply(conn, [made(["a", "a", "b"], ["c", "c"])])
        rows = await conn.fetch("SELECT checksum, state FROM read.renditions ORDER BY checksum")
    finally:
        await conn.close()
    assert [(r["checksum"], r["state"]) for r in rows] == [
        ("a", "ready"),
        ("b", "ready"),
        ("c", "failed"),
    ]
