"""What a hostile or careless client sends is refused at the edge, and never stops the platform.

Control characters in any text, malformed cursors and consistency tokens, loose types: each is
a 4xx problem naming what was wrong, and afterwards later writes still become visible.
"""

from __future__ import annotations

import base64
import csv
import io
import time
import uuid
from typing import Any

import httpx
import orjson
import pytest

from queries.consistency import Token
from tests.e2e.conftest import Running
from tests.e2e.test_albums import Studio
from tests.support.accounts import PASSWORD, Account, sign_in, sign_up

PROBLEM = "application/problem+json"


def refused(answer: httpx.Response, field: str, status: int = 422) -> None:
    """A problem of ``status`` whose errors name ``field``."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert field in [e["field"] for e in answer.json().get("errors", [])], answer.text


async def still_serving(running: Running, account: Account) -> None:
    """A write made after the refusals becomes visible, and health is unharmed."""
    http = running.http
    created = await http.post("/api/orgs", json={"name": "After"}, headers=account.headers)
    assert created.status_code == 201, created.text
    token = {"X-Consistency-Token": created.json()["consistency_token"]}
    seen = await http.get(
        f"/api/orgs/{created.json()['org_id']}", headers={**account.headers, **token}
    )
    assert seen.status_code == 200, seen.text
    assert seen.json()["name"] == "After"
    assert (await http.get("/api/health")).status_code == 200


async def test_control_characters_in_studio_text_are_refused_naming_the_field(
    running: Running,
) -> None:
    http = running.http
    refused(
        await http.post(
            "/api/auth/register",
            json={"email": "nul@example.com", "password": PASSWORD, "name": "Nu\u0000ll"},
        ),
        "name",
    )
    refused(
        await http.post(
            "/api/auth/register",
            json={"email": "n\u0000l@example.com", "password": PASSWORD, "name": "Null"},
        ),
        "email",
    )
    refused(
        await http.post("/api/auth/login", json={"email": "a\u0000@b.io", "password": "x"}),
        "email",
    )
    studio = await Studio.open(running, photos=1)
    owner, org = studio.headers, studio.org_id
    refused(await http.post("/api/orgs", json={"name": "Evil\u0000Co"}, headers=owner), "name")
    refused(await http.patch(f"/api/orgs/{org}", json={"name": "Esc\u001b"}, headers=owner), "name")
    refused(await http.post("/api/orgs", json={"name": "Two\nlines"}, headers=owner), "name")
    refused(
        await http.post(
            f"/api/orgs/{org}/invitations",
            json={"email": "x\u0000@example.com", "role": "viewer"},
            headers=owner,
        ),
        "email",
    )
    good_client = {"name": "Client", "email": "c@example.com"}
    album_bodies: list[tuple[dict[str, Any], str]] = [
        ({"title": "Wed\u0000ding", "client": good_client}, "title"),
        ({"title": "Wedding", "client": {"name": "C\u2028", "email": "c@x.io"}}, "client.name"),
        ({"title": "Wedding", "client": {"name": "C", "email": "c\u0000@x.io"}}, "client.email"),
        ({"title": "Wedding", "client": good_client, "tags": ["ok", "b\u0085d"]}, "tags.1"),
    ]
    for album_body, field in album_bodies:
        refused(await http.post(f"/api/orgs/{org}/albums", json=album_body, headers=owner), field)
    album = await studio.post(
        f"/api/orgs/{org}/albums", {"title": "Fine", "client": good_client}, 201
    )
    album_id = album["album_id"]
    refused(
        await http.post(f"/api/albums/{album_id}/tags", json={"tag": "t\u0000"}, headers=owner),
        "tag",
    )
    folder_bodies: list[tuple[dict[str, str], str]] = [
        (
            {"provider": "local", "location": f"{running.world.photos}\u0000/x", "name": "F"},
            "location",
        ),
        ({"provider": "local", "location": str(running.world.photos), "name": "F\u0007"}, "name"),
    ]
    for body, field in folder_bodies:
        refused(
            await http.post(f"/api/orgs/{org}/storage/folders", json=body, headers=owner), field
        )
    queries: list[tuple[dict[str, str], str]] = [
        ({"q": "\u0000"}, "query.q"),
        ({"tag": "a\u0000"}, "query.tag"),
        ({"status": "nonsense"}, "query.status"),
    ]
    for params, field in queries:
        refused(await http.get(f"/api/orgs/{org}/albums", params=params, headers=owner), field)
    listed = await http.get(f"/api/orgs/{org}/albums", params={"status": "draft"}, headers=owner)
    assert [a["album_id"] for a in listed.json()["items"]] == [album_id]
    await still_serving(running, studio.owner)


async def test_a_client_through_a_share_link_cannot_send_control_characters(
    running: Running,
) -> None:
    studio = await Studio.open(running, photos=1)
    album_id = await studio.synced_album()
    photo = (await studio.photos(album_id))[0]["photo_id"]
    share = (await studio.post(f"/api/albums/{album_id}/share", {}))["share_token"]
    http, base = running.http, f"/api/share/{share}"
    refused(
        await http.post(f"{base}/photos/{photo}/comments", json={"text": "hi\u0000there"}),
        "text",
    )
    refused(
        await http.post(
            f"{base}/photos/{photo}/select", headers={b"X-Guest": "eve\u0085".encode()}
        ),
        "header.x-guest",
    )
    refused(await http.post(f"{base}/request-changes", json={"text": "no\u0000"}), "text")
    lines = await http.post(f"{base}/photos/{photo}/comments", json={"text": "Lovely.\n\tCrop it?"})
    assert lines.status_code == 201, lines.text
    named = await http.post(f"{base}/photos/{photo}/select", headers={b"X-Guest": "Zoë".encode()})
    assert named.status_code == 200, named.text
    studio.headers["X-Consistency-Token"] = named.json()["consistency_token"]
    comments = await studio.get(f"/api/albums/{album_id}/comments")
    assert [c["text"] for c in comments["items"]] == ["Lovely.\n\tCrop it?"]
    await still_serving(running, studio.owner)


def cursor_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSORS = [
    cursor_of(b'["2020-01-01T00:00:00+00:00","notauuid"]'),
    cursor_of(b"[1,2]"),
    cursor_of(b"[[1,2],[3]]"),
    cursor_of(b"[123456789012345678901234567890,1]"),
    cursor_of(b'["a","b",3]'),
    cursor_of(b'["a\\u0000","b","c"]'),
    cursor_of(orjson.dumps([2**62, str(uuid.uuid4())])),
    "%00",
]


async def test_malformed_cursors_are_a_422_on_every_list_route(running: Running) -> None:
    studio = await Studio.open(running, photos=1)
    album_id = await studio.synced_album()
    share = (await studio.post(f"/api/albums/{album_id}/share", {}))["share_token"]
    org, folder = studio.org_id, studio.folder_id
    lists = [
        "/api/orgs",
        f"/api/orgs/{org}/members",
        f"/api/orgs/{org}/invitations",
        f"/api/orgs/{org}/albums",
        f"/api/orgs/{org}/storage/folders",
        f"/api/storage/folders/{folder}/photos",
        f"/api/storage/folders/{folder}/audit",
        f"/api/albums/{album_id}/photos",
        f"/api/albums/{album_id}/comments",
        f"/api/albums/{album_id}/activity",
        f"/api/audit/albums/{album_id}/events",
        f"/api/share/{share}",
    ]
    for path in lists:
        good = await running.http.get(path, params={"limit": 1}, headers=studio.headers)
        assert good.status_code == 200, f"{path}: {good.text}"
        for cursor in BAD_CURSORS:
            answer = await running.http.get(path, params={"cursor": cursor}, headers=studio.headers)
            assert answer.status_code == 422, f"{path} {cursor}: {answer.text}"
            refused(answer, "query.cursor")
        written = good.json().get("photos", good.json())["next_cursor"]
        if written:  # a cursor the route wrote still reads back
            again = await running.http.get(
                path,
                params={"limit": 1, "cursor": written},
                headers=studio.headers,
            )
            assert again.status_code == 200, f"{path}: {again.text}"
    await still_serving(running, studio.owner)


async def test_a_malformed_token_is_a_400_and_anothers_write_is_never_waited_for(
    running: Running,
) -> None:
    http = running.http
    owner, outsider = await running.account(), await running.account()
    mine = (await http.post("/api/orgs", json={"name": "Mine"}, headers=owner.headers)).json()
    theirs = (await http.post("/api/orgs", json={"name": "Out"}, headers=outsider.headers)).json()
    album = await http.post(
        f"/api/orgs/{mine['org_id']}/albums",
        json={"title": "Secret", "client": {"name": "C", "email": "c@example.com"}},
        headers={**owner.headers, "X-Consistency-Token": mine["consistency_token"]},
    )
    assert album.status_code == 201, album.text
    album_id = uuid.UUID(album.json()["album_id"])
    huge = base64.urlsafe_b64encode(f"albums:{album_id}:{10**30}".encode()).decode()
    for token in (huge, "garbage", Token("albums", album_id, 0).encode()):
        answer = await http.get(
            f"/api/orgs/{mine['org_id']}",
            headers={**owner.headers, "X-Consistency-Token": token},
        )
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"].startswith(PROBLEM)
    # An outsider probing the album's version, on its own studio or on the album: no wait.
    probe = {"X-Consistency-Token": Token("albums", album_id, 1_000_000).encode()}
    for path in (f"/api/orgs/{theirs['org_id']}", f"/api/albums/{album_id}", "/api/me"):
        started = time.monotonic()
        answer = await http.get(path, headers={**outsider.headers, **probe})
        expected = 404 if "albums" in path else 200
        assert answer.status_code == expected, f"{path}: {answer.text}"
        assert time.monotonic() - started < 2, path
    # The owner's own token for the same album is waited for, and then read.
    own = {"X-Consistency-Token": album.json()["consistency_token"]}
    seen = await http.get(f"/api/albums/{album_id}", headers={**owner.headers, **own})
    assert seen.status_code == 200, seen.text
    await still_serving(running, owner)


async def test_body_types_are_strict_json(running: Running) -> None:
    studio = await Studio.open(running, photos=1)
    album_id = await studio.synced_album()
    for loose in ("yes", 1, "true"):
        answer = await running.http.post(
            f"/api/albums/{album_id}/share", json={"allow_download": loose}, headers=studio.headers
        )
        refused(answer, "allow_download")
    refused(
        await running.http.post(
            f"/api/orgs/{studio.org_id}/albums",
            json={"title": "T", "client": {"name": "C", "email": "c@x.io"}, "selection_limit": "3"},
            headers=studio.headers,
        ),
        "selection_limit",
    )
    shared = await running.http.post(
        f"/api/albums/{album_id}/share",
        json={"allow_download": True, "expires_at": "2099-01-01T00:00:00Z"},
        headers=studio.headers,
    )
    assert shared.status_code == 200, shared.text


async def test_the_spreadsheet_export_keeps_formulas_as_text(running: Running) -> None:
    studio = await Studio.open(running, photos=2)
    album_id = await studio.synced_album()
    photos = await studio.photos(album_id)
    share = (await studio.post(f"/api/albums/{album_id}/share", {}))["share_token"]
    guests = ['=HYPERLINK("http://evil.example","x")', "+1", "-2", "@SUM(A1)"]
    for guest, photo in zip(guests, [photos[0]] * 3 + [photos[1]], strict=True):
        picked = await running.http.post(
            f"/api/share/{share}/photos/{photo['photo_id']}/select", headers={"X-Guest": guest}
        )
        assert picked.status_code == 200, picked.text
        studio.headers["X-Consistency-Token"] = picked.json()["consistency_token"]
    export = await running.http.get(
        f"/api/albums/{album_id}/selection/export",
        params={"format": "csv"},
        headers=studio.headers,
    )
    assert export.status_code == 200, export.text
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0] == ["name", "file_id", "rating", "color", "picked_by"]
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    picked_by = {row[0]: row[4] for row in rows[1:]}
    assert picked_by[photos[0]["name"]].startswith("'=HYPERLINK(")
    assert picked_by[photos[1]["name"]] == "'@SUM(A1)"


async def test_an_outsiders_404_names_only_what_was_asked_for(running: Running) -> None:
    studio = await Studio.open(running, photos=1)
    album = await studio.post(
        f"/api/orgs/{studio.org_id}/albums",
        {"title": "Private", "client": {"name": "C", "email": "c@example.com"}},
        201,
    )
    outsider = await running.account()
    for path in (
        f"/api/audit/albums/{album['album_id']}/events",
        f"/api/audit/albums/{album['album_id']}/state",
        f"/api/audit/folders/{studio.folder_id}/events",
        f"/api/albums/{album['album_id']}",
        f"/api/storage/folders/{studio.folder_id}",
    ):
        answer = await running.http.get(path, headers=outsider.headers)
        assert answer.status_code == 404, f"{path}: {answer.text}"
        assert studio.org_id not in answer.text, f"{path}: {answer.text}"
    nobody = await running.http.get(
        f"/api/audit/albums/{uuid.uuid4()}/events", headers=outsider.headers
    )
    assert nobody.status_code == 404
    assert answer_detail_shape(nobody.json()) == answer_detail_shape(
        (
            await running.http.get(
                f"/api/audit/albums/{album['album_id']}/events", headers=outsider.headers
            )
        ).json()
    )


def answer_detail_shape(problem: dict[str, Any]) -> str:
    """The problem's detail with ids blanked: an outsider cannot tell theirs from nobody's."""
    words = problem["detail"].split()
    return " ".join("<id>" if _is_uuid(w) else w for w in words)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text.strip("'\"."))
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("limit", [10])
async def test_failed_sign_ins_lock_the_account_not_the_address(
    running: Running, limit: int
) -> None:
    http = running.http
    victim, bystander = await sign_up(http), await sign_up(http)
    for _ in range(limit):
        wrong = await http.post(
            "/api/auth/login", json={"email": victim.email, "password": "not the password"}
        )
        assert wrong.status_code == 401, wrong.text
    locked = await http.post("/api/auth/login", json={"email": victim.email, "password": PASSWORD})
    assert locked.status_code == 429, locked.text
    assert locked.headers["content-type"].startswith(PROBLEM)
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    shouting = await http.post(
        "/api/auth/login", json={"email": victim.email.upper(), "password": PASSWORD}
    )
    assert shouting.status_code == 429
    await sign_in(http, bystander.email)  # the same address still signs others in
