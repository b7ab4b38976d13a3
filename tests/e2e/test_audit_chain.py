"""The hash chain: every event linked to its predecessor, and tampering found by ``verify``."""

from __future__ import annotations

import itertools
from typing import Any

import asyncpg

from tests.e2e.conftest import Running
from tests.support.accounts import Account

EVENTS = "organization.organizations_events"


async def studio_with_history(running: Running, user: Account, renames: int) -> str:
    created = await running.http.post("/api/orgs", json={"name": "Chain 0"}, headers=user.headers)
    org_id = str(created.json()["org_id"])
    for n in range(1, renames + 1):
        renamed = await running.http.patch(
            f"/api/orgs/{org_id}", json={"name": f"Chain {n}"}, headers=user.headers
        )
        assert renamed.status_code == 200
    return org_id


async def verdict(running: Running, user: Account, org_id: str) -> dict[str, Any]:
    answer = await running.http.get(f"/api/audit/orgs/{org_id}/verify", headers=user.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def tamper(running: Running, statement: str, org_id: str, version: int) -> None:
    conn = await asyncpg.connect(running.world.settings.database_url)
    try:
        await conn.execute(statement, org_id, version)
    finally:
        await conn.close()


async def test_each_event_carries_its_link_and_the_chain_verifies(running: Running) -> None:
    user = await running.account()
    org_id = await studio_with_history(running, user, renames=3)
    answer = await running.http.get(f"/api/audit/orgs/{org_id}/events", headers=user.headers)
    events = answer.json()["items"]
    assert events[0]["prev_hash"] is None
    for before, after in itertools.pairwise(events):
        assert after["prev_hash"] == before["hash"]
        assert len(after["hash"]) == 64
    assert await verdict(running, user, org_id) == {
        "ok": True,
        "length": len(events),
        "head": events[-1]["hash"],
        "broken_at": None,
    }


async def test_an_edited_event_row_is_named_by_verify(running: Running) -> None:
    user = await running.account()
    org_id = await studio_with_history(running, user, renames=3)
    await tamper(
        running,
        f"UPDATE {EVENTS} SET state = state || '\\x00'::bytea "
        "WHERE originator_id = $1::uuid AND originator_version = $2",
        org_id,
        3,
    )
    found = await verdict(running, user, org_id)
    assert (found["ok"], found["broken_at"], found["head"]) == (False, 3, None)


async def test_a_deleted_event_row_is_named_by_verify(running: Running) -> None:
    user = await running.account()
    org_id = await studio_with_history(running, user, renames=3)
    await tamper(
        running,
        f"DELETE FROM {EVENTS} WHERE originator_id = $1::uuid AND originator_version = $2",
        org_id,
        4,
    )
    found = await verdict(running, user, org_id)
    assert (found["ok"], found["broken_at"]) == (False, 4)
