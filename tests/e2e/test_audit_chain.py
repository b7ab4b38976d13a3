"""The hash chain: every event linked to its predecessor, and tampering found by ``verify``."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg

from tests.e2e.conftest import Running
from tests.support.accounts import Account
from tests.support.world import REPO

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


def cli(running: Running, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=running.world.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_an_export_verifies_offline_and_an_edited_line_fails_the_standalone_script(
    running: Running, tmp_path: Path
) -> None:
    user = await running.account()
    org_id = await studio_with_history(running, user, renames=2)
    exported = cli(running, "-m", "infra", "audit", "export", "orgs", org_id)
    assert exported.returncode == 0, exported.stderr
    export = tmp_path / "orgs.jsonl"
    export.write_text(exported.stdout)
    jwks = tmp_path / "jwks.json"
    jwks.write_text((await running.http.get("/api/auth/jwks.json")).text)
    script = str(REPO / "docs" / "verify_audit_export.py")

    standalone = cli(running, script, str(export), str(jwks))
    assert standalone.returncode == 0 and standalone.stdout.startswith("ok: 4 events"), standalone
    assert cli(running, "-m", "infra", "audit", "verify", str(export)).returncode == 0

    lines = export.read_text().splitlines()
    second = json.loads(lines[1])
    second["topic"] = second["topic"] + "x"  # a forged event in the middle of the file
    lines[1] = json.dumps(second)
    export.write_text("\n".join(lines))
    forged = cli(running, script, str(export), str(jwks))
    assert forged.returncode == 1
    assert forged.stdout.strip() == "problem: version 2 does not match its link"
