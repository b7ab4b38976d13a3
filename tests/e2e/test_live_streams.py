"""Live push through the running platform: what a browser's EventSource would receive.

Member streams carry their studios' events (a sync's progress among them) in order; a dropped
connection resumes from its Last-Event-ID with nothing lost or repeated; a share link's stream
carries its album's changes only, without private fields; stream tokens open one stream once.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from redis.asyncio import Redis

from commands.organizations import invitation_token
from infra.demo_photos import generate
from infra.keys import invitation_key
from tests.e2e.conftest import Running
from tests.support.accounts import Account
from tests.support.sse import SseMessage, sse
from tests.support.waiting import eventually
from tests.support.world import REPO, free_port

pytestmark = pytest.mark.e2e


@dataclass
class Studio:
    running: Running
    owner: Account
    org_id: str
    headers: dict[str, str]

    @classmethod
    async def open(cls, running: Running) -> Studio:
        owner = await running.account()
        answer = await running.http.post(
            "/api/orgs", json={"name": "Live Studio"}, headers=owner.headers
        )
        assert answer.status_code == 201, answer.text
        org = answer.json()
        headers = {**owner.headers, "X-Consistency-Token": org["consistency_token"]}
        return cls(running, owner, org["org_id"], headers)

    async def post(self, path: str, body: Any = None, status: int = 200) -> dict[str, Any]:
        answer = await self.running.http.post(path, json=body, headers=self.headers)
        assert answer.status_code == status, f"{path}: {answer.status_code} {answer.text}"
        result: dict[str, Any] = answer.json()
        if result.get("consistency_token"):
            self.headers["X-Consistency-Token"] = result["consistency_token"]
        return result

    async def get(self, path: str) -> dict[str, Any]:
        answer = await self.running.http.get(path, headers=self.headers)
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text}"
        result: dict[str, Any] = answer.json()
        return result

    async def folder(self, photos: int, copies: int = 0) -> tuple[str, Path]:
        """A local folder of ``photos`` generated JPEGs and ``copies`` hard links to them."""
        path = self.running.world.photos / uuid.uuid4().hex[:8]
        made = generate(path, count=photos)
        for number in range(copies):
            source = made[number % len(made)]
            os.link(source, path / f"copy-{number:05d}.jpg")
        written = await self.post(
            f"/api/orgs/{self.org_id}/storage/folders",
            {"provider": "local", "location": str(path), "name": "Shoot"},
            201,
        )
        return str(written["folder_id"]), path

    async def stream_token(self) -> str:
        answer = await self.post("/api/stream-tokens", status=201)
        assert 0 < answer["expires_in"] <= 60
        return str(answer["stream_token"])

    async def synced_album(self, folder_id: str, email: str) -> str:
        body = {
            "title": "Anna & Ben",
            "folder_id": folder_id,
            "client": {"name": "Anna Client", "email": email},
        }
        album_id = str((await self.post(f"/api/orgs/{self.org_id}/albums", body, 201))["album_id"])
        await self.post(f"/api/albums/{album_id}/sync", status=202)

        async def status() -> str:
            return str((await self.get(f"/api/albums/{album_id}"))["status"])

        await eventually(status, lambda s: s == "ready", timeout=60, what="album synced")
        return album_id


def of(folder_id: str, *types: str) -> Any:
    def matches(message: SseMessage) -> bool:
        body = message.json()
        return body["aggregate_id"] == folder_id and message.event in types

    return matches


async def test_a_sync_s_progress_arrives_on_the_member_stream_in_order(running: Running) -> None:
    studio = await Studio.open(running)
    folder_id, _ = await studio.folder(photos=12, copies=2988)
    token = await studio.stream_token()
    async with sse(running.http, "/api/stream", {"token": token}) as stream:
        await studio.post(f"/api/storage/folders/{folder_id}/sync", {"mode": "full"}, 202)
        seen = await stream.until(of(folder_id, "FolderSyncCompleted"), timeout=90)
    mine = [m for m in seen if m.json()["aggregate_id"] == folder_id]
    versions = [m.json()["version"] for m in mine]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert all(m.id for m in mine), "every message carries a resume position"
    assert mine[0].event == "FolderSyncStarted"
    progress = [m.json()["data"] for m in mine if m.event == "FolderSyncProgressed"]
    processed = [p["processed"] for p in progress]
    assert len(progress) >= 3, progress
    assert processed == sorted(processed) and processed[-1] == 3000
    assert any(p["total"] == 3000 and p["processed"] < 3000 for p in progress), (
        "the total is known while the sync still runs"
    )
    assert mine[-1].json()["data"]["total"] == 3000


async def test_last_event_id_resumes_after_a_dropped_connection(running: Running) -> None:
    studio = await Studio.open(running)
    other = await Studio.open(running)  # another studio's events never show
    body = {"title": "Resume", "client": {"name": "C", "email": "c@example.com"}}
    album_id = (await studio.post(f"/api/orgs/{studio.org_id}/albums", body, 201))["album_id"]

    async def tag(index: int) -> None:
        await studio.post(f"/api/albums/{album_id}/tags", {"tag": f"t{index}"})
        await other.post(f"/api/orgs/{other.org_id}/albums", body, 201)

    def last(message: SseMessage) -> bool:
        return message.event == "AlbumTagged" and "t6" in message.json()["data"]["tags"]

    async with sse(running.http, "/api/stream", {"token": await studio.stream_token()}) as whole:
        async with sse(running.http, "/api/stream", {"token": await studio.stream_token()}) as cut:
            for index in (1, 2, 3):
                await tag(index)
            first = [await cut.next(), await cut.next()]
        for index in (4, 5, 6):  # while the second stream is away
            await tag(index)
        reference = await whole.until(last)
        token = await studio.stream_token()
        async with sse(
            running.http, "/api/stream", {"token": token}, last_event_id=first[-1].id
        ) as resumed:
            rest = await resumed.until(last)
    ids = [m.json()["id"] for m in reference]
    assert [m.json()["id"] for m in first] == ids[:2]
    assert [m.json()["id"] for m in rest] == ids[2:], "nothing lost, nothing repeated"
    assert {m.json()["org_id"] for m in reference} == {studio.org_id}


async def test_a_share_stream_carries_only_its_album_and_no_private_fields(
    running: Running,
) -> None:
    studio = await Studio.open(running)
    folder_id, _ = await studio.folder(photos=3)
    email = f"{uuid.uuid4().hex[:8]}@client.example"
    album_id = await studio.synced_album(folder_id, email)
    neighbour = await studio.synced_album(folder_id, "other@client.example")
    token = (await studio.post(f"/api/albums/{album_id}/share", {}))["share_token"]
    other_token = (await studio.post(f"/api/albums/{neighbour}/share", {}))["share_token"]
    photos = (await studio.get(f"/api/albums/{album_id}/photos"))["items"]
    other_photos = (await studio.get(f"/api/albums/{neighbour}/photos"))["items"]
    http = running.http
    async with sse(http, f"/api/share/{token}/stream") as stream:
        await http.post(f"/api/share/{other_token}/photos/{other_photos[0]['photo_id']}/select")
        await studio.post(f"/api/albums/{album_id}/tags", {"tag": "private-tag"})
        photo_id = photos[0]["photo_id"]
        assert (await http.post(f"/api/share/{token}/photos/{photo_id}/select")).status_code == 200
        await http.post(f"/api/share/{token}/photos/{photo_id}/comments", json={"text": "Lovely"})
        seen = await stream.until(lambda m: m.event == "AlbumCommentAdded")
    assert [m.event for m in seen] == ["AlbumPhotoSelected", "AlbumCommentAdded"]
    for message in seen:
        body = message.json()
        assert body["aggregate_id"] == album_id
        assert "org_id" not in body and "actor" not in body
        for private in (email, studio.org_id, studio.owner.user_id, studio.owner.email, folder_id):
            assert private not in message.data
    assert seen[0].json()["data"]["photo_id"] == photo_id
    assert seen[1].json()["data"]["text"] == "Lovely"


async def test_unknown_share_links_have_no_stream(running: Running) -> None:
    answer = await running.http.get("/api/share/not-a-link/stream")
    assert answer.status_code == 404


async def test_a_stream_token_opens_one_stream_once(running: Running) -> None:
    studio = await Studio.open(running)
    http = running.http
    assert (await http.get("/api/stream")).status_code == 401
    forged = await http.get("/api/stream", params={"token": "x" * 43})
    assert forged.status_code == 401
    assert forged.headers["content-type"].startswith("application/problem+json")
    token = await studio.stream_token()
    async with sse(http, "/api/stream", {"token": token}):
        pass
    assert (await http.get("/api/stream", params={"token": token})).status_code == 401
    bearer = await http.get(
        "/api/stream", params={"token": studio.owner.access_token}
    )  # an access token is not a stream token
    assert bearer.status_code == 401
    unsigned = await http.post("/api/stream-tokens")
    assert unsigned.status_code == 401
    expiring = await studio.stream_token()
    await _expire(running, expiring)
    assert (await http.get("/api/stream", params={"token": expiring})).status_code == 401


async def _expire(running: Running, token: str) -> None:
    """Let the token's time run out now rather than in a minute."""
    settings = running.world.settings
    key = f"{settings.namespace}:stream-token:{hashlib.sha256(token.encode()).hexdigest()}"
    redis = Redis.from_url(settings.redis_url)
    try:
        ttl = await redis.ttl(key)
        assert 0 < ttl <= 60, "a stream token is short-lived"
        await redis.pexpire(key, 1)
        await asyncio.sleep(0.05)
    finally:
        await redis.aclose()


async def test_a_stream_is_text_event_stream_with_heartbeat_ready_headers(
    running: Running,
) -> None:
    studio = await Studio.open(running)
    token = await studio.stream_token()
    async with sse(running.http, "/api/stream", {"token": token}) as stream:
        headers = stream.response.headers
        assert "no-cache" in headers["cache-control"]
        assert headers.get("x-accel-buffering") == "no"
        assert stream.retry is not None


async def test_an_incremental_sync_says_when_it_ran_as_full(running: Running) -> None:
    studio = await Studio.open(running)
    folder_id, path = await studio.folder(photos=4)

    async def synced(mode: str) -> dict[str, Any]:
        await studio.post(f"/api/storage/folders/{folder_id}/sync", {"mode": mode}, 202)

        async def sync() -> dict[str, Any]:
            return dict((await studio.get(f"/api/storage/folders/{folder_id}"))["sync"] or {})

        return await eventually(sync, lambda s: s.get("state") == "completed", what="synced")

    first = await synced("incremental")
    assert (first["mode"], first["requested_mode"]) == ("full", "incremental")
    generate(path / "more", count=2)
    second = await synced("incremental")
    assert (second["mode"], second["requested_mode"]) == ("incremental", "incremental")
    assert second["sync_id"] != first["sync_id"]
    assert second["processed"] == second["total"] == 6
    folder = await studio.get(f"/api/storage/folders/{folder_id}")
    assert folder["file_count"] == 6


async def test_a_member_removed_from_the_studio_sees_it_and_the_stream_ends(
    running: Running,
) -> None:
    studio = await Studio.open(running)
    member = await running.account()
    invited = await studio.post(
        f"/api/orgs/{studio.org_id}/invitations", {"email": member.email, "role": "viewer"}, 201
    )
    link = invitation_token(
        invitation_key(REPO / "var" / "keys"), UUID(studio.org_id), UUID(invited["invitation_id"])
    )
    joined = await running.http.post(f"/api/invitations/{link}/accept", headers=member.headers)
    assert joined.status_code == 200, joined.text
    headers = {**member.headers, "X-Consistency-Token": joined.json()["consistency_token"]}
    token = (await running.http.post("/api/stream-tokens", headers=headers)).json()["stream_token"]
    async with sse(running.http, "/api/stream", {"token": token}) as stream:
        answer = await running.http.delete(
            f"/api/orgs/{studio.org_id}/members/{member.user_id}", headers=studio.headers
        )
        assert answer.status_code in (200, 204), answer.text
        removed = await stream.until(lambda m: m.event == "OrganizationMemberRemoved")
        assert removed[-1].json()["data"]["user_id"] == member.user_id
        with pytest.raises(EOFError):
            await stream.next()


async def test_a_stream_resumes_on_another_api_process(running: Running) -> None:
    """Tokens live in Redis and positions are Kafka's: any API process resumes any stream."""
    studio = await Studio.open(running)
    body = {"title": "Two servers", "client": {"name": "C", "email": "c@example.com"}}
    album_id = (await studio.post(f"/api/orgs/{studio.org_id}/albums", body, 201))["album_id"]

    def tagged(name: str) -> Any:
        return lambda m: m.event == "AlbumTagged" and name in m.json()["data"]["tags"]

    async with sse(running.http, "/api/stream", {"token": await studio.stream_token()}) as first:
        for name in ("a", "b"):
            await studio.post(f"/api/albums/{album_id}/tags", {"tag": name})
        before = await first.until(tagged("b"))
        port = free_port()
        other = running.world.spawn("api", log_name="second-api", http_port=str(port))
        try:
            second = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)

            async def answers() -> bool:
                try:
                    return (await second.get("/api/health")).status_code in (200, 503)
                except httpx.TransportError:
                    return False

            await eventually(answers, bool, timeout=60, what="second API answers")
            for name in ("c", "d"):
                await studio.post(f"/api/albums/{album_id}/tags", {"tag": name})
            after = await first.until(tagged("d"))
            token = await studio.stream_token()  # issued by the first process
            async with sse(
                second, "/api/stream", {"token": token}, last_event_id=before[0].id
            ) as resumed:
                rest = await resumed.until(tagged("d"))
            await second.aclose()
        finally:
            other.send_signal(signal.SIGTERM)
            other.wait(timeout=30)
    expected = [m.json()["id"] for m in (*before[1:], *after)]
    assert [m.json()["id"] for m in rest] == expected
