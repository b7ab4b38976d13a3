"""Every command of the studio, storage and provider wings honours a stale ``If-Match`` with 409.

(Album commands have their own test in ``test_album_commands.py``.)
"""

from __future__ import annotations

import httpx

from tests.e2e.conftest import Running
from tests.e2e.test_tenancy import invite_and_join, link_token, studio

STALE = {"If-Match": '"999"'}  # a version none of these aggregates has


def conflict(answer: httpx.Response) -> bool:
    return answer.status_code == 409 and answer.json()["type"].endswith("/concurrency-conflict")


async def test_every_command_refuses_a_stale_if_match(running: Running) -> None:
    s = await studio(running, "Conditional")
    member = await invite_and_join(running, s, "viewer")
    guest = await running.account()
    invited = await running.http.post(
        f"/api/orgs/{s.org_id}/invitations",
        json={"email": guest.email, "role": "viewer"},
        headers=s.owner.headers,
    )
    invitation_id = invited.json()["invitation_id"]
    smtp = {
        "host": "smtp.example.com",
        "port": "587",
        "username": "u",
        "password": "p",
        "from_address": "studio@example.com",
    }
    put = await running.http.put(
        f"/api/orgs/{s.org_id}/providers/smtp", json=smtp, headers=s.owner.headers
    )
    assert put.status_code == 200, put.text
    owner = {**s.owner.headers, **s.token, **STALE}
    attempts = [
        ("PATCH", f"/api/orgs/{s.org_id}", {"name": "Renamed"}, owner),
        (
            "POST",
            f"/api/orgs/{s.org_id}/invitations",
            {"email": "x@example.com", "role": "viewer"},
            owner,
        ),
        ("DELETE", f"/api/orgs/{s.org_id}/invitations/{invitation_id}", None, owner),
        (
            "POST",
            f"/api/invitations/{link_token(s.org_id, invitation_id)}/accept",
            None,
            {**guest.headers, **STALE},
        ),
        ("PATCH", f"/api/orgs/{s.org_id}/members/{member.user_id}", {"role": "admin"}, owner),
        ("DELETE", f"/api/orgs/{s.org_id}/members/{member.user_id}", None, owner),
        ("PUT", f"/api/orgs/{s.org_id}/providers/smtp", smtp, owner),
        ("DELETE", f"/api/orgs/{s.org_id}/providers/smtp", None, owner),
        ("POST", f"/api/storage/folders/{s.folder_id}/sync", {"mode": "full"}, owner),
    ]
    for method, url, body, headers in attempts:
        answer = await running.http.request(method, url, json=body, headers=headers)
        assert conflict(answer), f"{method} {url}: {answer.status_code} {answer.text}"
