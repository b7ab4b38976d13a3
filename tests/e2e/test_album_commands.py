"""Album commands as a frontend meets them: no consistency token needed right after a create,
If-Match on every command, and the client's side of a share link (ratings per guest, a photo's
comments, links that expire, die with archiving, or are revoked)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from infra.demo_photos import generate
from tests.e2e.conftest import Running
from tests.e2e.test_albums import Studio
from tests.support.waiting import eventually

CLIENT = {"name": "Cleo", "email": "cleo@example.com"}


def ok(answer: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert answer.status_code == status, f"{answer.request.url}: {answer.status_code} {answer.text}"
    body: dict[str, Any] = answer.json()
    return body


async def test_every_album_command_succeeds_straight_after_its_create_without_a_token(
    running: Running,
) -> None:
    """Never an X-Consistency-Token: each command goes out the moment the previous answered."""
    http, owner = running.http, await running.account()
    h = owner.headers
    org = ok(await http.post("/api/orgs", json={"name": "At once"}, headers=h), 201)
    # An album straight after its studio, and each photographer's command straight after it.
    draft = ok(
        await http.post(
            f"/api/orgs/{org['org_id']}/albums",
            json={"title": "Draft", "client": CLIENT},
            headers=h,
        ),
        201,
    )["album_id"]
    ok(await http.post(f"/api/albums/{draft}/tags", json={"tag": "now"}, headers=h))
    ok(await http.delete(f"/api/albums/{draft}/tags/now", headers=h))
    ok(await http.post(f"/api/albums/{draft}/archive", headers=h))
    ok(await http.post(f"/api/albums/{draft}/reopen", headers=h))

    # A folder in the studio created a moment ago: no token either.
    folder_path = running.world.photos / uuid.uuid4().hex[:8]
    generate(folder_path, count=3)
    folder = await http.post(
        f"/api/orgs/{org['org_id']}/storage/folders",
        json={"provider": "local", "location": str(folder_path), "name": "Shoot"},
        headers=h,
    )
    assert folder.status_code == 201, folder.text
    org = org["org_id"]
    body = {"title": "Shoot", "folder_id": folder.json()["folder_id"], "client": CLIENT}
    album = ok(await http.post(f"/api/orgs/{org}/albums", json=body, headers=h), 201)["album_id"]
    ok(await http.post(f"/api/albums/{album}/sync", headers=h), 202)

    async def status() -> str:
        return str((await http.get(f"/api/albums/{album}", headers=h)).json().get("status"))

    await eventually(status, lambda s: s == "ready", timeout=60, what="album synced")
    photos = (await http.get(f"/api/albums/{album}/photos", headers=h)).json()["items"]
    first, second = photos[0]["photo_id"], photos[1]["photo_id"]
    token = ok(await http.post(f"/api/albums/{album}/share", headers=h))["share_token"]
    share = f"/api/share/{token}"
    ok(await http.post(f"{share}/photos/{first}/select"))
    ok(await http.post(f"{share}/photos/{second}/select"))
    ok(await http.post(f"{share}/photos/{second}/deselect"))
    ok(await http.post(f"{share}/photos/{first}/rating", json={"rating": 4}))
    ok(await http.post(f"{share}/photos/{first}/comments", json={"text": "Lovely"}), 201)
    ok(await http.post(f"{share}/submit"))
    ok(await http.post(f"/api/albums/{album}/start-editing", headers=h))
    proc = {"status": "edited"}
    ok(await http.post(f"/api/albums/{album}/photos/{first}/proc", json=proc, headers=h))
    ok(await http.post(f"/api/albums/{album}/deliver", headers=h))
    ok(await http.post(f"{share}/request-changes", json={"text": "Crop"}))
    ok(await http.post(f"/api/albums/{album}/start-editing", headers=h))
    ok(await http.post(f"/api/albums/{album}/deliver", headers=h))
    ok(await http.post(f"{share}/approve"))
    ok(await http.post(f"/api/albums/{album}/tags", json={"tag": "done"}, headers=h))
    ok(await http.delete(f"/api/albums/{album}/share", headers=h))
    ok(await http.post(f"/api/albums/{album}/archive", headers=h))
    last = ok(await http.post(f"/api/albums/{album}/reopen", headers=h))
    final = await http.get(
        f"/api/albums/{album}", headers={**h, "X-Consistency-Token": last["consistency_token"]}
    )
    assert (final.json()["status"], final.json()["tags"]) == ("approved", ["done"])


async def test_every_album_command_refuses_a_stale_if_match(running: Running) -> None:
    studio = await Studio.open(running, photos=2)
    album_id = await studio.synced_album()
    photo = (await studio.photos(album_id))[0]["photo_id"]
    token = (await studio.post(f"/api/albums/{album_id}/share", {}))["share_token"]
    await studio.post(f"/api/albums/{album_id}/tags", {"tag": "keep"})
    before = await studio.get(f"/api/albums/{album_id}")
    album, share = f"/api/albums/{album_id}", f"/api/share/{token}"
    commands: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", f"{album}/sync", None),
        ("POST", f"{album}/tags", {"tag": "late"}),
        ("DELETE", f"{album}/tags/keep", None),
        ("POST", f"{album}/share", {}),
        ("DELETE", f"{album}/share", None),
        ("POST", f"{album}/photos/{photo}/proc", {"status": "edited"}),
        ("POST", f"{album}/start-editing", None),
        ("POST", f"{album}/deliver", None),
        ("POST", f"{album}/archive", None),
        ("POST", f"{album}/reopen", None),
        ("POST", f"{share}/photos/{photo}/select", None),
        ("POST", f"{share}/photos/{photo}/deselect", None),
        ("POST", f"{share}/photos/{photo}/rating", {"rating": 3}),
        ("POST", f"{share}/photos/{photo}/comments", {"text": "late"}),
        ("POST", f"{share}/submit", None),
        ("POST", f"{share}/request-changes", {"text": "late"}),
        ("POST", f"{share}/approve", None),
    ]
    stale = {**studio.owner.headers, "If-Match": f'"{before["version"] - 1}"'}
    for method, path, body in commands:
        answer = await running.http.request(method, path, json=body, headers=stale)
        assert answer.status_code == 409, f"{method} {path}: {answer.status_code} {answer.text}"
        assert answer.json()["type"].endswith("/concurrency-conflict"), f"{method} {path}"
    current = {**studio.owner.headers, "If-Match": f'"{before["version"]}"'}
    tagged = await running.http.post(f"{album}/tags", json={"tag": "now"}, headers=current)
    assert tagged.status_code == 200 and tagged.json()["version"] == before["version"] + 1
    studio.headers["X-Consistency-Token"] = tagged.json()["consistency_token"]
    after = await studio.get(f"/api/albums/{album_id}")
    assert (after["tags"], after["status"]) == (["keep", "now"], "shared")


async def test_ratings_and_colours_are_kept_per_guest(running: Running) -> None:
    studio = await Studio.open(running, photos=2)
    album_id = await studio.synced_album()
    photo = (await studio.photos(album_id))[0]["photo_id"]
    token = (await studio.post(f"/api/albums/{album_id}/share", {}))["share_token"]
    rate = f"/api/share/{token}/photos/{photo}/rating"
    ok(await running.http.post(rate, json={"rating": 5, "color": "green"}, headers=_as("anna")))
    ok(await running.http.post(rate, json={"rating": 2, "color": "red"}, headers=_as("ben")))
    last = ok(await running.http.post(rate, json={"rating": 1}, headers=_as("ben")))
    studio.headers["X-Consistency-Token"] = last["consistency_token"]
    [row] = [p for p in await studio.photos(album_id) if p["photo_id"] == photo]
    assert row["ratings"] == {
        "anna": {"rating": 5, "color": "green"},
        "ben": {"rating": 1, "color": None},
    }
    assert row["rating"] == 5, "the photographer sees the highest rating any guest gave"
    for guest, mine in (("anna", (5, "green")), ("ben", (1, None))):
        view = ok(await running.http.get(f"/api/share/{token}", headers=_as(guest)))
        [seen] = [p for p in view["photos"]["items"] if p["photo_id"] == photo]
        assert (seen["rating"], seen["color"]) == mine, guest


async def test_a_client_reads_a_photos_comments_back(running: Running) -> None:
    studio = await Studio.open(running, photos=2)
    album_id = await studio.synced_album()
    first, second = [p["photo_id"] for p in await studio.photos(album_id)]
    token = (await studio.post(f"/api/albums/{album_id}/share", {}))["share_token"]
    share = f"/api/share/{token}/photos"
    for photo, text in ((first, "warmer"), (second, "other")):
        ok(await running.http.post(f"{share}/{photo}/comments", json={"text": text}), 201)
    last = ok(
        await running.http.post(
            f"{share}/{first}/comments", json={"text": "and brighter"}, headers=_as("ben")
        ),
        201,
    )

    async def comments() -> list[tuple[str, str]]:
        page = ok(await running.http.get(f"{share}/{first}/comments"))
        return [(c["author"], c["text"]) for c in page["items"]]

    assert last["version"] > 0
    listed = await eventually(comments, lambda c: len(c) == 2, timeout=10, what="comments")
    assert listed == [("client:guest", "warmer"), ("client:ben", "and brighter")]
    paged = ok(await running.http.get(f"{share}/{first}/comments", params={"limit": 1}))
    assert len(paged["items"]) == 1 and paged["next_cursor"]
    unknown = await running.http.get(f"{share}/{uuid.uuid4()}/comments")
    assert unknown.status_code == 404


async def test_share_links_expire_die_with_archiving_and_can_be_revoked(running: Running) -> None:
    studio = await Studio.open(running, photos=2)
    album_id = await studio.synced_album()
    album = f"/api/albums/{album_id}"
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    refused = await running.http.post(
        f"{album}/share", json={"expires_at": past}, headers=studio.headers
    )
    assert refused.status_code == 422 and "expires_at" in refused.text
    soon = datetime.now(UTC) + timedelta(seconds=3)
    shared = await studio.post(
        f"{album}/share", {"expires_at": soon.isoformat(), "allow_download": True}
    )
    view = ok(await running.http.get(f"/api/share/{shared['share_token']}"))
    assert view["album"]["share"]["allow_download"] is True  # at once: from the album itself
    assert datetime.fromisoformat(view["album"]["share"]["expires_at"]) == soon
    seen = await studio.get(album)
    assert seen["share"]["active"] and seen["share"]["allow_download"]

    async def opened() -> httpx.Response:
        return await running.http.get(f"/api/share/{shared['share_token']}")

    expired = await eventually(opened, lambda a: a.status_code != 200, timeout=10, what="expiry")
    assert expired.status_code == 410 and expired.json()["type"].endswith("/share-expired")
    pick = await running.http.post(f"/api/share/{shared['share_token']}/submit")
    assert pick.status_code == 410 and pick.json()["type"].endswith("/share-expired")

    token = (await studio.post(f"{album}/share", {}))["share_token"]
    assert (await running.http.get(f"/api/share/{token}")).status_code == 200
    await studio.post(f"{album}/archive")
    archived = await running.http.get(f"/api/share/{token}")
    assert archived.status_code == 410 and archived.json()["type"].endswith("/share-archived")
    await studio.post(f"{album}/reopen")
    assert (await running.http.get(f"/api/share/{token}")).status_code == 200

    answer = await running.http.delete(f"{album}/share", headers=studio.headers)
    assert answer.status_code == 200
    studio.headers["X-Consistency-Token"] = answer.json()["consistency_token"]
    assert (await running.http.get(f"/api/share/{token}")).status_code == 404
    assert (await running.http.post(f"/api/share/{token}/submit")).status_code == 404
    again = await running.http.delete(f"{album}/share", headers=studio.headers)
    assert again.status_code == 404
    assert (await studio.get(album))["share"]["active"] is False


async def test_a_tag_with_a_slash_can_be_removed(running: Running) -> None:
    studio = await Studio.open(running, photos=1)
    album = await studio.post(
        f"/api/orgs/{studio.org_id}/albums", {"title": "Tags", "client": CLIENT}, 201
    )
    path = f"/api/albums/{album['album_id']}"
    await studio.post(f"{path}/tags", {"tag": "clients/2026"})
    await studio.post(f"{path}/tags", {"tag": "a/b/c"})
    assert (await studio.get(path))["tags"] == ["clients/2026", "a/b/c"]
    for tag in ("clients/2026", "a%2Fb%2Fc"):
        answer = await running.http.delete(f"{path}/tags/{tag}", headers=studio.headers)
        assert answer.status_code == 200, answer.text
        studio.headers["X-Consistency-Token"] = answer.json()["consistency_token"]
    assert (await studio.get(path))["tags"] == []


def _as(guest: str) -> dict[str, str]:
    return {"X-Guest": guest}


async def test_a_studio_s_storage_and_provider_commands_work_the_moment_it_exists(
    running: Running,
) -> None:
    """The studio is not in read.memberships yet: its role comes from the write model."""
    user = await running.account()
    http, h = running.http, user.headers
    for attempt in range(5):
        org = ok(await http.post("/api/orgs", json={"name": f"New {attempt}"}, headers=h), 201)
        folder_path = running.world.photos / uuid.uuid4().hex[:8]
        generate(folder_path, count=1)
        ok(
            await http.post(
                f"/api/orgs/{org['org_id']}/storage/folders",
                json={"provider": "local", "location": str(folder_path), "name": "At once"},
                headers=h,
            ),
            201,
        )
        smtp = {
            "host": "smtp.example.com",
            "port": "587",
            "username": "u",
            "password": "p",
            "from_address": "studio@example.com",
        }
        ok(await http.put(f"/api/orgs/{org['org_id']}/providers/smtp", json=smtp, headers=h))
