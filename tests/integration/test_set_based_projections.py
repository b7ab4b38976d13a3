"""A batch folded into one COPY and one merge leaves the rows that its events one by one do."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from broker.envelope import Envelope
from projections import positions
from projections.base import Projection
from projections.files import FilesProjection
from projections.memberships import MembershipsProjection
from projections.registry import all_projections
from projections.renditions import RenditionsProjection
from projections.storage_audit import StorageAuditProjection
from projections.users import UsersProjection
from tests.support.events import START, a_file, event
from tests.support.world import World, new_world


@pytest.fixture
async def world(stack: None) -> AsyncIterator[World]:
    async with new_world() as w:
        yield w


async def rows_after(
    conn: asyncpg.Connection, projection: Projection, batches: Sequence[Sequence[Envelope]]
) -> list[tuple[Any, ...]]:
    for table in projection.tables:
        await conn.execute(f"DELETE FROM {table}")
    for batch in batches:
        async with conn.transaction():
            await projection.apply(conn, batch)
    rows = []
    for table in projection.tables:
        rows += [tuple(r) for r in await conn.fetch(f"SELECT * FROM {table} ORDER BY 1, 2, 3")]
    return rows


async def batches_agree(
    world: World,
    cases: Sequence[tuple[Projection, Sequence[Envelope]]],
    split: int,
    bulk_from: int = 0,
) -> None:
    """Each projection's rows after its events one at a time, all at once, and in two batches
    (at ``split``) are the same. A second batch shorter than ``bulk_from`` takes the statement
    path, which one at a time already covers."""
    conn = await asyncpg.connect(world.settings.database_url)
    try:
        await positions.create_schema(conn)
        for each in all_projections().values():
            await positions.upgrade(conn, each)
        for projection, events in cases:
            one_by_one = await rows_after(conn, projection, [[e] for e in events])
            at_once = await rows_after(conn, projection, [events])
            in_two = await rows_after(conn, projection, [events[:split], events[split:]])
            assert one_by_one == at_once, projection.name
            assert at_once == in_two or len(events[split:]) < bulk_from, projection.name
            assert one_by_one
    finally:
        await conn.close()


async def test_one_merge_equals_one_event_at_a_time(world: World) -> None:
    folder = uuid4()
    files = [
        event(folder, 1, "FolderFilesDiscovered", {"files": [a_file("a", "A"), a_file("b", "B")]}),
        event(folder, 2, "FolderFilesRemoved", {"file_ids": ["a"]}),
        event(folder, 3, "FolderFilesDiscovered", {"files": [a_file("b", "B2")]}),
        event(folder, 4, "FolderFilesRemoved", {"file_ids": ["b", "c"]}),
        event(folder, 5, "FolderFilesDiscovered", {"files": [a_file("b", "B3"), a_file("d", "D")]}),
    ]

    def made(version: int, ready: list[tuple[str, Any]], failed: list[str]) -> Envelope:
        return event(
            folder,
            version,
            "RenditionsMade",
            {
                "ready": [{"checksum": c, "sizes": sizes} for c, sizes in ready],
                "failed": [{"checksum": c, "reason": f"bad {version}"} for c in failed],
            },
        )

    renditions = [
        made(1, [("x", {"thumbnail": [4, 3]})], ["y", "z"]),
        made(2, [("y", {"preview": [8, 6]})], ["x", "z"]),
        made(3, [("x", {"preview": [9, 9]}), ("x", {})], ["w"]),
        made(4, [("w", None)], ["w", "v"]),
        made(5, [], ["v"]),
    ]
    await batches_agree(
        world, [(FilesProjection(), files), (RenditionsProjection(), renditions)], 2
    )


async def test_members_and_users_in_bulk_equal_a_statement_per_event(world: World) -> None:
    org, u1, u2, u3, i1, i2 = (uuid4() for _ in range(6))
    later = (START + timedelta(days=7)).isoformat()

    def org_event(version: int, type_: str, **data: Any) -> Envelope:
        return event(org, version, type_, data, actor="owner")

    members = [
        org_event(1, "OrganizationMemberAdded", user_id=str(u1), role="owner"),
        org_event(2, "OrganizationMemberAdded", user_id=str(u2), role="viewer"),
        org_event(3, "OrganizationMemberRoleChanged", user_id=str(u2), role="admin"),
        org_event(4, "OrganizationMemberRemoved", user_id=str(u1)),
        org_event(5, "OrganizationMemberAdded", user_id=str(u1), role="photographer"),
        org_event(6, "OrganizationMemberRoleChanged", user_id=str(u3), role="admin"),
        org_event(
            7,
            "OrganizationInvitationSent",
            invitation_id=str(i1),
            email="a@x",
            role="viewer",
            expires_at=later,
        ),
        org_event(8, "OrganizationInvitationAccepted", invitation_id=str(i1)),
        org_event(
            9,
            "OrganizationInvitationSent",
            invitation_id=str(i2),
            email="b@x",
            role="admin",
            expires_at=later,
        ),
        org_event(10, "OrganizationInvitationRevoked", invitation_id=str(i2)),
        org_event(11, "OrganizationInvitationRevoked", invitation_id=str(uuid4())),
        org_event(12, "OrganizationMemberAdded", user_id=str(u2), role="viewer"),
    ] + [org_event(13 + n, "OrganizationRenamed", name=f"n{n}") for n in range(30)]
    first, second = uuid4(), uuid4()
    users = [
        event(first, 1, "UserRegistered", {"email": "f@x", "name": "F"}),
        event(first, 2, "UserSignedIn", {}),
        event(second, 1, "UserSignedIn", {}),
        event(second, 2, "UserRegistered", {"email": "s@x", "name": "S"}),
        event(second, 3, "UserDeactivated", {}),
        event(second, 4, "UserRegistered", {"email": "other@x", "name": "O"}),
        event(first, 3, "UserSignedIn", {}),
    ] + [event(uuid4(), 1, "UserRegistered", {"email": f"{n}@x", "name": "N"}) for n in range(30)]
    folder = uuid4()
    sync = {"sync_id": str(uuid4())}
    audit = [
        event(folder, 1, "FolderRegistered", {"provider": "local", "location": "/", "name": "F"}),
        *(event(folder, 2 + n, "FolderSyncStarted", {**sync, "mode": "full"}) for n in range(40)),
        event(folder, 42, "FolderFilesRemoved", {**sync, "file_ids": ["a", "b"]}),
    ]
    cases = [
        (MembershipsProjection(), members),
        (UsersProjection(), users),
        (StorageAuditProjection(), audit),
    ]
    await batches_agree(world, cases, 40, bulk_from=32)
