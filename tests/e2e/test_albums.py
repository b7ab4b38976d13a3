"""The album workflow through the running platform: sync, share, select, deliver, approve."""

from __future__ import annotations

import asyncio
import re
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from infra.demo_photos import generate
from tests.e2e.conftest import Running
from tests.support.accounts import Account
from tests.support.mailbox import messages_to, text_of
from tests.support.waiting import eventually


class Studio:
    """A photographer with a studio and a folder of photos, driving the API."""

    def __init__(
        self, running: Running, owner: Account, org_id: str, folder_id: str, token: str
    ) -> None:
        self.running, self.owner, self.org_id, self.folder_id = running, owner, org_id, folder_id
        self.headers = {**owner.headers, "X-Consistency-Token": token}

    @classmethod
    async def open(cls, running: Running, photos: int = 8) -> Studio:
        http, owner = running.http, await running.account()
        org = (
            await http.post("/api/orgs", json={"name": "Album Studio"}, headers=owner.headers)
        ).json()
        folder_path = running.world.photos / uuid.uuid4().hex[:8]
        generate(folder_path, count=photos)
        folder = await http.post(
            f"/api/orgs/{org['org_id']}/storage/folders",
            json={"provider": "local", "location": str(folder_path), "name": "Shoot"},
            headers={**owner.headers, "X-Consistency-Token": org["consistency_token"]},
        )
        assert folder.status_code == 201, folder.text
        return cls(
            running,
            owner,
            org["org_id"],
            folder.json()["folder_id"],
            folder.json()["consistency_token"],
        )

    async def post(self, path: str, body: Any = None, status: int = 200) -> dict[str, Any]:
        answer = await self.running.http.post(path, json=body, headers=self.headers)
        assert answer.status_code == status, f"{path}: {answer.status_code} {answer.text}"
        result: dict[str, Any] = answer.json()
        if "consistency_token" in result:
            self.headers["X-Consistency-Token"] = result["consistency_token"]
        return result

    async def get(self, path: str, **params: Any) -> dict[str, Any]:
        answer = await self.running.http.get(path, params=params, headers=self.headers)
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text}"
        result: dict[str, Any] = answer.json()
        return result

    async def synced_album(self, limit: int | None = None) -> str:
        body = {
            "title": "Anna & Ben",
            "folder_id": self.folder_id,
            "selection_limit": limit,
            "client": {"name": "Anna Client", "email": "anna@example.com"},
        }
        album_id = str((await self.post(f"/api/orgs/{self.org_id}/albums", body, 201))["album_id"])
        await self.sync(album_id)
        return album_id

    async def sync(self, album_id: str) -> None:
        await self.post(f"/api/albums/{album_id}/sync", status=202)

        async def status() -> str:
            return str((await self.get(f"/api/albums/{album_id}"))["status"])

        await eventually(status, lambda s: s != "syncing", timeout=60, what="album synced")

    async def photos(self, album_id: str) -> list[dict[str, Any]]:
        return list((await self.get(f"/api/albums/{album_id}/photos", limit=500))["items"])


async def test_the_whole_path_from_sync_to_approval(running: Running) -> None:
    studio = await Studio.open(running)
    album_id = await studio.synced_album(limit=3)
    album = await studio.get(f"/api/albums/{album_id}")
    assert (album["status"], album["photo_count"]) == ("ready", 8)
    photos = await studio.photos(album_id)
    token = (await studio.post(f"/api/albums/{album_id}/share", {"allow_download": True}))[
        "share_token"
    ]
    client = running.http
    shared = (await client.get(f"/api/share/{token}")).json()
    assert shared["album"]["title"] == "Anna & Ben" and len(shared["photos"]["items"]) == 8
    assert "org_id" not in shared["album"]
    picked = [photos[0]["photo_id"], photos[3]["photo_id"]]
    for photo_id in picked:
        assert (
            await client.post(f"/api/share/{token}/photos/{photo_id}/select")
        ).status_code == 200
    await client.post(
        f"/api/share/{token}/photos/{picked[0]}/rating", json={"rating": 5, "color": "green"}
    )
    comment = await client.post(
        f"/api/share/{token}/photos/{picked[1]}/comments", json={"text": "Warmer, please"}
    )
    assert comment.status_code == 201
    assert (await client.post(f"/api/share/{token}/submit")).status_code == 200
    late = await client.post(f"/api/share/{token}/photos/{photos[5]['photo_id']}/select")
    assert late.status_code == 409, "picks are closed once the selection is submitted"
    await studio.post(f"/api/albums/{album_id}/start-editing")
    for photo_id in picked:
        await studio.post(f"/api/albums/{album_id}/photos/{photo_id}/proc", {"status": "edited"})
    await studio.post(f"/api/albums/{album_id}/deliver")
    sent_back = await client.post(
        f"/api/share/{token}/request-changes", json={"text": "One more crop"}
    )
    assert sent_back.status_code == 200
    await studio.post(f"/api/albums/{album_id}/start-editing")
    await studio.post(f"/api/albums/{album_id}/deliver")
    approved = await client.post(f"/api/share/{token}/approve")
    assert approved.status_code == 200
    studio.headers["X-Consistency-Token"] = approved.json()["consistency_token"]
    final = await studio.get(f"/api/albums/{album_id}")
    assert (final["status"], final["selection_count"], final["comment_count"]) == ("approved", 2, 1)
    rows = {p["photo_id"]: p for p in await studio.photos(album_id)}
    assert rows[picked[0]]["rating"] == 5 and rows[picked[0]]["color"] == "green"
    assert {rows[p]["proc_status"] for p in picked} == {"edited"}
    activity = [
        a["activity"] for a in (await studio.get(f"/api/albums/{album_id}/activity"))["items"]
    ]
    assert activity == [
        "created",
        "sync requested",
        "photos updated",
        "shared",
        "commented",
        "submit",
        "start_editing",
        "editing status",
        "editing status",
        "deliver",
        "request_changes",
        "start_editing",
        "deliver",
        "approve",
    ]
    comments = (await studio.get(f"/api/albums/{album_id}/comments"))["items"]
    assert [c["text"] for c in comments] == ["Warmer, please"]
    lightroom = await running.http.get(
        f"/api/albums/{album_id}/selection/export",
        params={"format": "lightroom"},
        headers=studio.headers,
    )
    names = {rows[p]["name"].rsplit(".", 1)[0] for p in picked}
    assert set(lightroom.text.split(", ")) == names
    csv = await running.http.get(
        f"/api/albums/{album_id}/selection/export", params={"format": "csv"}, headers=studio.headers
    )
    assert {line.split(",")[0] for line in csv.text.strip().splitlines()[1:]} == {
        rows[p]["name"] for p in picked
    }


async def test_a_forbidden_step_is_a_409_naming_the_state_and_what_is_allowed(
    running: Running,
) -> None:
    studio = await Studio.open(running, photos=2)
    album = await studio.post(
        f"/api/orgs/{studio.org_id}/albums",
        {"title": "Draft", "client": {"name": "C", "email": "c@x.io"}},
        201,
    )
    answer = await running.http.post(
        f"/api/albums/{album['album_id']}/deliver", headers=studio.headers
    )
    assert answer.status_code == 409
    detail = answer.json()["detail"]
    assert "draft" in detail and "archive" in detail and "deliver" not in detail.split(":")[-1]


async def test_the_selection_limit_holds_under_concurrent_clicks(running: Running) -> None:
    studio = await Studio.open(running, photos=12)
    album_id = await studio.synced_album(limit=4)
    photos = await studio.photos(album_id)
    token = (await studio.post(f"/api/albums/{album_id}/share", {}))["share_token"]
    answers = await asyncio.gather(
        *(
            running.http.post(
                f"/api/share/{token}/photos/{p['photo_id']}/select",
                headers={"X-Guest": f"guest-{i % 3}"},
            )
            for i, p in enumerate(photos)
        )
    )
    assert sorted(a.status_code for a in answers) == [200] * 4 + [409] * 8
    last = max((a.json() for a in answers if a.status_code == 200), key=lambda b: b["version"])
    studio.headers["X-Consistency-Token"] = last["consistency_token"]
    assert (await studio.get(f"/api/albums/{album_id}"))["selection_count"] == 4
    expected = {
        p["photo_id"]: [f"guest-{i % 3}"]
        for i, (p, a) in enumerate(zip(photos, answers, strict=True))
        if a.status_code == 200
    }

    async def pickers() -> dict[str, list[str]]:
        items = (await running.http.get(f"/api/share/{token}")).json()["photos"]["items"]
        return {p["photo_id"]: p["picked_by"] for p in items if p["picked_by"]}

    await eventually(pickers, lambda found: found == expected, timeout=10, what="who picked what")


async def test_a_share_link_opens_only_its_album_while_valid(running: Running) -> None:
    studio = await Studio.open(running, photos=2)
    first, second = await studio.synced_album(), await studio.synced_album()
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    token = (await studio.post(f"/api/albums/{first}/share", {"expires_at": soon}))["share_token"]
    other = (await studio.post(f"/api/albums/{second}/share", {}))["share_token"]
    assert (await running.http.get(f"/api/share/{token}")).status_code == 200
    forged = f"{second}.{token.split('.', 1)[1]}"
    assert (await running.http.get(f"/api/share/{forged}")).status_code == 404
    await asyncio.sleep(2.2)
    expired = await running.http.get(f"/api/share/{token}")
    assert expired.status_code == 410 and expired.json()["type"].endswith("/share-expired")
    assert (await running.http.get(f"/api/share/{other}")).status_code == 200
    await studio.post(f"/api/albums/{second}/archive")
    archived = await running.http.get(f"/api/share/{other}")
    assert archived.status_code == 410 and archived.json()["type"].endswith("/share-archived")
    assert (await running.http.get(f"/api/share/{forged}")).status_code == 404
    await studio.post(f"/api/albums/{second}/reopen")
    assert (await studio.get(f"/api/albums/{second}"))["status"] == "shared"


async def test_a_resync_keeps_surviving_picks_and_comments_and_drops_removed_photos(
    running: Running,
) -> None:
    studio = await Studio.open(running, photos=6)
    album_id = await studio.synced_album()
    photos = {p["name"]: p["photo_id"] for p in await studio.photos(album_id)}
    token = (await studio.post(f"/api/albums/{album_id}/share", {}))["share_token"]
    for name in ("demo-001.jpg", "demo-002.jpg"):
        await running.http.post(f"/api/share/{token}/photos/{photos[name]}/select")
    await running.http.post(
        f"/api/share/{token}/photos/{photos['demo-001.jpg']}/comments", json={"text": "keep this"}
    )
    folder = (await studio.get(f"/api/storage/folders/{studio.folder_id}"))["location"]
    (Path(folder) / "demo-002.jpg").unlink()
    shutil.copy(Path(folder) / "demo-001.jpg", Path(folder) / "new-one.jpg")
    await studio.sync(album_id)
    after = {p["name"]: p for p in await studio.photos(album_id)}
    assert "demo-002.jpg" not in after and "new-one.jpg" in after
    assert after["demo-001.jpg"]["selected"] and after["demo-001.jpg"]["comment_count"] == 1
    album = await studio.get(f"/api/albums/{album_id}")
    assert (album["status"], album["selection_count"], album["photo_count"]) == ("shared", 1, 6)


async def test_the_photographer_and_the_client_are_told_once_at_each_step(
    running: Running,
) -> None:
    studio = await Studio.open(running, photos=3)
    client_email = f"{uuid.uuid4().hex[:8]}@client.example"
    album_id = str(
        (
            await studio.post(
                f"/api/orgs/{studio.org_id}/albums",
                {
                    "title": "Notified",
                    "folder_id": studio.folder_id,
                    "client": {"name": "Cleo", "email": client_email},
                },
                201,
            )
        )["album_id"]
    )
    await studio.sync(album_id)
    photo = (await studio.photos(album_id))[0]["photo_id"]
    token = (await studio.post(f"/api/albums/{album_id}/share", {}))["share_token"]
    for _ in range(3):  # clicks send no mail
        await running.http.post(f"/api/share/{token}/photos/{photo}/select")
        await running.http.post(f"/api/share/{token}/photos/{photo}/deselect")
    await running.http.post(f"/api/share/{token}/photos/{photo}/select")
    await running.http.post(f"/api/share/{token}/submit")
    await studio.post(f"/api/albums/{album_id}/start-editing")
    await studio.post(f"/api/albums/{album_id}/deliver")
    mailbox = running.world.mailbox

    async def mail_counts() -> tuple[int, int]:
        return (
            len(messages_to(mailbox, studio.owner.email)),
            len(messages_to(mailbox, client_email)),
        )

    await eventually(mail_counts, lambda c: c == (1, 1), timeout=30, what="one mail each")
    await asyncio.sleep(1.5)
    assert await mail_counts() == (1, 1)
    [to_photographer] = messages_to(mailbox, studio.owner.email)
    assert "Cleo submitted" in str(to_photographer["Subject"])
    assert "1 photos" in text_of(to_photographer)
    [to_client] = messages_to(mailbox, client_email)
    link = re.search(r"/g/([A-Za-z0-9._-]+)", text_of(to_client))
    assert link is not None
    opened = await running.http.get(f"/api/share/{link.group(1)}")
    assert opened.status_code == 200 and opened.json()["album"]["status"] == "delivered"


async def test_client_comments_reach_the_photographer_as_a_digest_not_a_mail_each(
    running: Running,
) -> None:
    studio = await Studio.open(running, photos=2)
    album_id = await studio.synced_album()
    photo = (await studio.photos(album_id))[0]["photo_id"]
    token = (await studio.post(f"/api/albums/{album_id}/share", {}))["share_token"]
    notes = [f"note {i}" for i in range(6)]
    for note in notes:
        answer = await running.http.post(
            f"/api/share/{token}/photos/{photo}/comments", json={"text": note}
        )
        assert answer.status_code == 201
    mailbox = running.world.mailbox

    async def digested() -> str:
        return "\n".join(
            text_of(m)
            for m in messages_to(mailbox, studio.owner.email)
            if "New comments" in str(m["Subject"])
        )

    await eventually(
        digested,
        lambda text: all(n in text for n in notes),
        timeout=30,
        what="every comment in a digest",
    )
    digests = [
        m for m in messages_to(mailbox, studio.owner.email) if "New comments" in str(m["Subject"])
    ]
    assert 1 <= len(digests) <= 2, "one digest per period, not one mail per comment"
