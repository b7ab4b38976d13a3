"""What an operator, an auditor and an integrator see of the running platform."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime

from tests.e2e.conftest import Running
from tests.support.world import REPO


async def test_health_lists_every_component_and_worker_with_its_lag(running: Running) -> None:
    answer = await running.http.get("/api/health")
    assert answer.status_code == 200
    health = answer.json()
    assert {c["name"]: c["ok"] for c in health["components"]} == {
        "postgres": True,
        "redis": True,
        "kafka": True,
    }
    workers = {(w["kind"], w["name"]): w for w in health["workers"]}
    assert set(workers) == {
        ("relay", "relay"),
        ("projector", "orgs"),
        ("projector", "memberships"),
        ("projector", "users"),
        ("projector", "providers"),
        ("projector", "folders"),
        ("projector", "files"),
        ("projector", "storage_audit"),
        ("sender", "sender"),
        ("sync", "sync"),
        ("album-sync", "album-sync"),
        ("album-snapshots", "album-snapshots"),
        ("projector", "albums"),
        ("projector", "album_activity"),
        ("render", "render"),
        ("projector", "renditions"),
    }
    assert all(
        w["running"] and w["instances"] == 1 and w["lag"] is not None for w in workers.values()
    )


async def test_the_contract_documents_are_served(running: Running) -> None:
    openapi = (await running.http.get("/api/openapi.json")).json()
    assert {
        "/api/orgs",
        "/api/orgs/{org_id}",
        "/api/health",
        "/api/audit/{stream}/{aggregate_id}/events",
    } <= set(openapi["paths"])
    assert "post" in openapi["paths"]["/api/orgs"]
    asyncapi = (await running.http.get("/api/asyncapi.json")).json()
    addresses = {c["address"] for c in asyncapi["channels"].values()}
    prefix = running.world.settings.topic_prefix
    assert {
        prefix + "organization.org",
        prefix + "photoflow.full-sync-storage",
        prefix + "storage.folder-sync-progress",
        prefix + "storage.folder-sync-completed",
    } <= addresses


async def test_an_auditor_sees_every_event_and_the_state_at_any_version_or_time(
    running: Running,
) -> None:
    alice = await running.account()
    created = (
        await running.http.post("/api/orgs", json={"name": "Before"}, headers=alice.headers)
    ).json()
    org_id = created["org_id"]
    await asyncio.sleep(0.01)
    between = datetime.now(UTC).isoformat()
    await asyncio.sleep(0.01)
    await running.http.patch(f"/api/orgs/{org_id}", json={"name": "After"}, headers=alice.headers)
    audit = f"/api/audit/orgs/{org_id}"
    first_page = (
        await running.http.get(f"{audit}/events", params={"limit": 2}, headers=alice.headers)
    ).json()
    assert [e["actor"] for e in first_page["items"]] == [alice.user_id] * 2
    second_page = (
        await running.http.get(
            f"{audit}/events", headers=alice.headers, params={"cursor": first_page["next_cursor"]}
        )
    ).json()
    assert [(e["version"], e["type"], e["data"]) for e in second_page["items"]] == [
        (3, "OrganizationRenamed", {"name": "After"})
    ]
    assert second_page["next_cursor"] is None
    at_v1 = (await running.http.get(f"{audit}/state?version=1", headers=alice.headers)).json()
    assert (at_v1["version"], at_v1["state"]["name"]) == (1, "Before")
    at_time = await running.http.get(
        f"{audit}/state", params={"at": between}, headers=alice.headers
    )
    assert at_time.json()["state"]["name"] == "Before"
    now = (await running.http.get(f"{audit}/state", headers=alice.headers)).json()
    assert (now["version"], now["state"]["name"]) == (3, "After")
    too_far = await running.http.get(f"{audit}/state?version=9", headers=alice.headers)
    assert too_far.status_code == 422
    both = await running.http.get(
        f"{audit}/state", params={"version": 1, "at": between}, headers=alice.headers
    )
    assert both.status_code == 422


def test_a_second_platform_on_the_same_port_refuses_to_start(running: Running) -> None:
    second = subprocess.run(
        [sys.executable, "-m", "infra", "run"],
        cwd=REPO,
        env=running.world.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1
    assert "already listens" in second.stderr


async def test_rebuild_from_the_command_line_replays_the_read_table(running: Running) -> None:
    ann = await running.account()
    org = (
        await running.http.post("/api/orgs", json={"name": "Rebuilt"}, headers=ann.headers)
    ).json()
    rebuild = await asyncio.to_thread(running.world.run, "rebuild", "orgs")
    assert rebuild.returncode == 0, rebuild.stderr
    assert "rebuilt orgs" in rebuild.stdout
    assert "rebuild orgs" in rebuild.stderr  # the progress bar
    shown = await running.http.get(
        f"/api/orgs/{org['org_id']}",
        headers={**ann.headers, "X-Consistency-Token": org["consistency_token"]},
    )
    assert shown.json()["name"] == "Rebuilt"
