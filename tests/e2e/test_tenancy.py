"""Studios are sealed from each other, and roles decide what a member may do."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from commands.organizations import invitation_token
from infra.keys import invitation_key
from tests.e2e.conftest import Running
from tests.support.accounts import Account
from tests.support.world import REPO

SAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "/api/orgs/{org_id}": {"name": "Hijacked"},
    "/api/orgs/{org_id}/invitations": {"email": "mole@example.com", "role": "owner"},
    "/api/orgs/{org_id}/members/{user_id}": {"role": "viewer"},
    "/api/orgs/{org_id}/storage/folders": {"provider": "local", "location": "/", "name": "x"},
    "/api/storage/folders/{folder_id}/sync": {"mode": "full"},
    "/api/orgs/{org_id}/albums": {"title": "Mine", "client": {"name": "x", "email": "x@x.io"}},
    "/api/albums/{album_id}/tags": {"tag": "stolen"},
    "/api/albums/{album_id}/share": {},
    "/api/albums/{album_id}/photos/{photo_id}/proc": {"status": "edited"},
    "/api/share/{share_token}/photos/{photo_id}/rating": {"rating": 1},
    "/api/share/{share_token}/photos/{photo_id}/comments": {"text": "hi"},
    "/api/share/{share_token}/request-changes": {"text": "no"},
    "/api/orgs/{org_id}/watermark": {"text": "Stolen", "position": "center"},
    "/api/orgs/{org_id}/providers/{kind}": {
        "access_key_id": "AKIA",
        "secret_access_key": "stolen",
        "region": "eu-west-1",
    },
}
# Per user, not per studio: a stream token, and the stream it opens, carry only the caller's own
# studios (tests/e2e/test_live_streams.py); /metrics holds no studio's data, only counts.
NOT_STUDIO_SCOPED = re.compile(
    r"^(/metrics$|/api/(auth/|health|openapi|asyncapi|me(/|$)|orgs$|stream-tokens$|stream$))"
)


@dataclass
class Studio:
    owner: Account
    org_id: str
    invitation_id: str
    token: dict[str, str]
    folder_id: str
    album_id: str


async def studio(running: Running, name: str) -> Studio:
    owner = await running.account()
    org = (await running.http.post("/api/orgs", json={"name": name}, headers=owner.headers)).json()
    invited = (
        await running.http.post(
            f"/api/orgs/{org['org_id']}/invitations",
            json={"email": "guest@example.com", "role": "viewer"},
            headers=owner.headers,
        )
    ).json()
    token = {"X-Consistency-Token": invited["consistency_token"]}
    folder = await running.http.post(
        f"/api/orgs/{org['org_id']}/storage/folders",
        json={"provider": "local", "location": str(running.world.photos), "name": f"{name} raw"},
        headers={**owner.headers, **token},
    )
    assert folder.status_code == 201, folder.text
    album = await running.http.post(
        f"/api/orgs/{org['org_id']}/albums",
        json={"title": f"{name} wedding", "client": {"name": "Client", "email": "c@example.com"}},
        headers={**owner.headers, **token},
    )
    assert album.status_code == 201, album.text
    return Studio(
        owner,
        org["org_id"],
        invited["invitation_id"],
        {"X-Consistency-Token": album.json()["consistency_token"]},
        folder.json()["folder_id"],
        album.json()["album_id"],
    )


def link_token(org_id: str, invitation_id: str) -> str:
    return invitation_token(
        invitation_key(REPO / "var" / "keys"), UUID(org_id), UUID(invitation_id)
    )


async def invite_and_join(running: Running, s: Studio, role: str) -> Account:
    member = await running.account()
    invited = (
        await running.http.post(
            f"/api/orgs/{s.org_id}/invitations",
            json={"email": member.email, "role": role},
            headers=s.owner.headers,
        )
    ).json()
    joined = await running.http.post(
        f"/api/invitations/{link_token(s.org_id, invited['invitation_id'])}/accept",
        headers=member.headers,
    )
    assert joined.status_code == 200, joined.text
    assert joined.json()["role"] == role
    member_headers = {**member.headers, "X-Consistency-Token": joined.json()["consistency_token"]}
    me = (await running.http.get("/api/me", headers=member_headers)).json()
    assert {"org_id": s.org_id, "role": role} in [
        {"org_id": o["org_id"], "role": o["role"]} for o in me["orgs"]
    ]
    return member


async def org_events(running: Running, org_id: str) -> int:
    conn = await asyncpg.connect(running.world.settings.database_url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM organization.organizations_events WHERE originator_id = $1",
                UUID(org_id),
            )
        )
    finally:
        await conn.close()


async def test_no_route_shows_or_changes_anything_of_another_studio(running: Running) -> None:
    a, b = await studio(running, "Studio A"), await studio(running, "Studio B Secret")
    before = await org_events(running, b.org_id)
    operations = (await running.http.get("/api/openapi.json")).json()["paths"]
    fill = {
        "org_id": b.org_id,
        "user_id": b.owner.user_id,
        "invitation_id": b.invitation_id,
        "stream": "orgs",
        "aggregate_id": b.org_id,
        "token": f"{b.org_id}.{b.invitation_id}.forged",
        "kind": "s3",
        "folder_id": b.folder_id,
        "album_id": b.album_id,
        "photo_id": str(uuid4()),
        "tag": "wedding",
        "share_token": f"{b.album_id}.forged",
        "image_id": "0" * 64,
        # a file of B's folder (the world's photos): its images are B's alone
        "file_id": sorted(p.name for p in running.world.photos.iterdir() if p.is_file())[0],
    }
    tried = 0
    for path, methods in operations.items():
        if NOT_STUDIO_SCOPED.match(path):
            continue
        url = path.format(**fill)
        for method in methods:
            answer = await running.http.request(
                method.upper(),
                url,
                headers={**a.owner.headers, **b.token},
                json=SAMPLE_BODIES.get(path) if method in ("post", "patch", "put") else None,
            )
            tried += 1
            assert answer.status_code == 404, f"{method.upper()} {path}: {answer.status_code}"
            assert "Studio B Secret" not in answer.text and "guest@example.com" not in answer.text
    assert tried >= 10
    assert await org_events(running, b.org_id) == before
    mine = (await running.http.get("/api/orgs", headers={**a.owner.headers, **b.token})).json()
    assert [o["org_id"] for o in mine["items"]] == [a.org_id]
    me = (await running.http.get("/api/me", headers=a.owner.headers)).json()
    assert [o["org_id"] for o in me["orgs"]] == [a.org_id]


@pytest.mark.parametrize("role", ["viewer", "photographer"])
async def test_a_member_below_admin_may_look_but_not_manage(running: Running, role: str) -> None:
    s = await studio(running, "Roles")
    member = await invite_and_join(running, s, role)
    attempts = [
        ("PATCH", f"/api/orgs/{s.org_id}", {"name": "Mine"}),
        ("POST", f"/api/orgs/{s.org_id}/invitations", {"email": "x@example.com", "role": "viewer"}),
        ("PATCH", f"/api/orgs/{s.org_id}/members/{s.owner.user_id}", {"role": "viewer"}),
        ("DELETE", f"/api/orgs/{s.org_id}/members/{s.owner.user_id}", None),
        ("GET", f"/api/orgs/{s.org_id}/invitations", None),
    ]
    for method, url, body in attempts:
        answer = await running.http.request(method, url, json=body, headers=member.headers)
        assert answer.status_code == 403, f"{role} {method} {url}: {answer.status_code}"
        assert answer.json()["type"].endswith("/forbidden")
    members = await running.http.get(f"/api/orgs/{s.org_id}/members", headers=member.headers)
    assert {m["role"] for m in members.json()["items"]} == {"owner", role}


async def test_an_invitation_is_accepted_once_and_not_after_revocation(running: Running) -> None:
    s = await studio(running, "Invites")
    guest, other = await running.account(), await running.account()
    invited = (
        await running.http.post(
            f"/api/orgs/{s.org_id}/invitations",
            json={"email": guest.email, "role": "viewer"},
            headers=s.owner.headers,
        )
    ).json()
    token = link_token(s.org_id, invited["invitation_id"])
    assert (
        await running.http.post(f"/api/invitations/{token}/accept", headers=other.headers)
    ).status_code == 409  # not addressed
    first = await running.http.post(f"/api/invitations/{token}/accept", headers=guest.headers)
    second = await running.http.post(f"/api/invitations/{token}/accept", headers=guest.headers)
    assert (first.status_code, second.status_code) == (200, 409)
    revoked = (
        await running.http.post(
            f"/api/orgs/{s.org_id}/invitations",
            json={"email": other.email, "role": "viewer"},
            headers=s.owner.headers,
        )
    ).json()
    gone = await running.http.delete(
        f"/api/orgs/{s.org_id}/invitations/{revoked['invitation_id']}", headers=s.owner.headers
    )
    assert gone.status_code == 200
    late = await running.http.post(
        f"/api/invitations/{link_token(s.org_id, revoked['invitation_id'])}/accept",
        headers=other.headers,
    )
    assert late.status_code == 409
    forged = await running.http.post(
        f"/api/invitations/{s.org_id}.{revoked['invitation_id']}.forged/accept",
        headers=other.headers,
    )
    assert forged.status_code == 404


async def test_the_last_owner_cannot_leave_but_can_hand_over_first(running: Running) -> None:
    s = await studio(running, "Hand-over")
    admin = await invite_and_join(running, s, "admin")
    leave = f"/api/orgs/{s.org_id}/members/{s.owner.user_id}"
    refused = await running.http.delete(leave, headers=s.owner.headers)
    assert refused.status_code == 409 and "owner" in refused.json()["detail"]
    promote = await running.http.patch(
        f"/api/orgs/{s.org_id}/members/{admin.user_id}",
        json={"role": "owner"},
        headers=s.owner.headers,
    )
    assert promote.status_code == 200
    assert (await running.http.delete(leave, headers=s.owner.headers)).status_code == 200


async def test_a_viewer_cannot_run_a_photographers_commands(running: Running) -> None:
    s = await studio(running, "Viewers")
    viewer = await invite_and_join(running, s, "viewer")
    photographer_commands = [
        (
            "POST",
            f"/api/orgs/{s.org_id}/albums",
            {"title": "Mine", "client": {"name": "C", "email": "c@example.com"}},
        ),
        (
            "POST",
            f"/api/orgs/{s.org_id}/storage/folders",
            {"provider": "local", "location": str(running.world.photos), "name": "Mine"},
        ),
        ("POST", f"/api/storage/folders/{s.folder_id}/sync", {"mode": "full"}),
        ("POST", f"/api/albums/{s.album_id}/share", {}),
        ("POST", f"/api/albums/{s.album_id}/tags", {"tag": "mine"}),
    ]
    for method, url, body in photographer_commands:
        answer = await running.http.request(method, url, json=body, headers=viewer.headers)
        assert answer.status_code == 403, f"viewer {method} {url}: {answer.status_code}"
    album = await running.http.get(f"/api/albums/{s.album_id}", headers=viewer.headers)
    assert album.status_code == 200  # but may look


async def test_an_auditor_reads_the_audit_routes_and_nothing_else(running: Running) -> None:
    s = await studio(running, "Audited")
    auditor = await invite_and_join(running, s, "auditor")
    audit = f"/api/audit/orgs/{s.org_id}"
    for path in (f"{audit}/events", f"{audit}/state", f"{audit}/verify"):
        answer = await running.http.get(path, headers=auditor.headers)
        assert answer.status_code == 200, f"auditor GET {path}: {answer.status_code}"
    for path in (
        f"/api/orgs/{s.org_id}",
        f"/api/orgs/{s.org_id}/members",
        f"/api/orgs/{s.org_id}/albums",
        f"/api/orgs/{s.org_id}/storage/folders",
    ):
        answer = await running.http.get(path, headers=auditor.headers)
        assert answer.status_code == 403, f"auditor GET {path}: {answer.status_code}"
    created = await running.http.post(
        f"/api/orgs/{s.org_id}/albums",
        json={"title": "No", "client": {"name": "C", "email": "c@example.com"}},
        headers=auditor.headers,
    )
    assert created.status_code == 403
