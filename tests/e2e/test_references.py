"""An album names a folder: only a folder of its own studio, checked on the write side.

Issue 8, items 1 and 3: studio B could create an album on studio A's folder (and, after a sync,
read A's file names, while A's folder audit showed B's sync); a folder that did not exist
crashed the sync worker. Both are now 404, naming only the folder that was asked for.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from infra.demo_photos import generate
from tests.e2e.conftest import Running
from tests.support.accounts import Account
from tests.support.waiting import eventually


async def studio(running: Running, name: str) -> tuple[Account, str, dict[str, str]]:
    owner = await running.account()
    org = (await running.http.post("/api/orgs", json={"name": name}, headers=owner.headers)).json()
    return owner, org["org_id"], {**owner.headers, "X-Consistency-Token": org["consistency_token"]}


def album_body(folder_id: str | None) -> dict[str, Any]:
    return {
        "title": "Borrowed wedding",
        "folder_id": folder_id,
        "client": {"name": "Client", "email": "client@example.com"},
    }


async def test_an_album_on_another_studios_folder_is_404_and_touches_nothing(
    running: Running,
) -> None:
    http = running.http
    a, org_a, a_headers = await studio(running, "Studio A")
    path = running.world.photos / uuid.uuid4().hex[:8]
    generate(path, count=3)
    folder = await http.post(
        f"/api/orgs/{org_a}/storage/folders",
        json={"provider": "local", "location": str(path), "name": "A's private shoot"},
        headers=a_headers,
    )
    assert folder.status_code == 201, folder.text
    folder_a = folder.json()["folder_id"]
    a_headers["X-Consistency-Token"] = folder.json()["consistency_token"]
    synced = await http.post(
        f"/api/storage/folders/{folder_a}/sync", json={"mode": "full"}, headers=a_headers
    )
    assert synced.status_code == 202

    async def a_sync_state() -> str | None:
        answer = await http.get(f"/api/storage/folders/{folder_a}", headers=a.headers)
        sync = answer.json().get("sync") if answer.status_code == 200 else None
        return sync["state"] if sync else None

    await eventually(a_sync_state, lambda s: s == "completed", timeout=60, what="A's sync")

    async def a_audit() -> list[dict[str, Any]]:
        answer = await http.get(f"/api/audit/folders/{folder_a}/events", headers=a.headers)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    before = await a_audit()

    b, org_b, b_headers = await studio(running, "Studio B")
    missing = str(uuid.UUID(int=0))
    for folder_id in (folder_a, missing):
        refused = await http.post(
            f"/api/orgs/{org_b}/albums", json=album_body(folder_id), headers=b_headers
        )
        assert refused.status_code == 404, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert folder_id in refused.json()["detail"]
        assert org_a not in refused.text and "A's private shoot" not in refused.text

    # B's own album without a folder is fine, and has nothing to sync.
    own = await http.post(f"/api/orgs/{org_b}/albums", json=album_body(None), headers=b_headers)
    assert own.status_code == 201, own.text
    b_headers["X-Consistency-Token"] = own.json()["consistency_token"]
    no_folder = await http.post(f"/api/albums/{own.json()['album_id']}/sync", headers=b_headers)
    assert no_folder.status_code == 409

    await asyncio.sleep(3)  # a sync B had started would show in A's audit by now
    after = await a_audit()
    assert after == before, "B's attempts recorded nothing on A's folder"
    assert not any(b.user_id in str(event) for event in after)
    listed = await http.get(f"/api/orgs/{org_b}/albums", headers=b_headers)
    assert [x["folder_id"] for x in listed.json()["items"]] == [None]
    assert (await http.get("/api/health")).status_code == 200, "the workers still run"


async def test_an_album_on_its_own_studios_folder_still_syncs(running: Running) -> None:
    http = running.http
    _, org_id, headers = await studio(running, "Studio C")
    path = running.world.photos / uuid.uuid4().hex[:8]
    generate(path, count=2)
    folder = await http.post(
        f"/api/orgs/{org_id}/storage/folders",
        json={"provider": "local", "location": str(path), "name": "Own shoot"},
        headers=headers,
    )
    headers["X-Consistency-Token"] = folder.json()["consistency_token"]
    created = await http.post(
        f"/api/orgs/{org_id}/albums", json=album_body(folder.json()["folder_id"]), headers=headers
    )
    assert created.status_code == 201, created.text
    album_id = created.json()["album_id"]
    headers["X-Consistency-Token"] = created.json()["consistency_token"]
    assert (await http.post(f"/api/albums/{album_id}/sync", headers=headers)).status_code == 202

    async def album() -> dict[str, Any]:
        return dict((await http.get(f"/api/albums/{album_id}", headers=headers)).json())

    ready = await eventually(album, lambda a: a["status"] == "ready", timeout=60, what="synced")
    assert ready["photo_count"] == 2
