"""Accounts, sessions and tokens as a frontend meets them."""

from __future__ import annotations

import asyncio
import uuid

from tests.e2e.conftest import Running
from tests.support.accounts import PASSWORD, sign_in, sign_up


async def test_register_login_and_me(running: Running) -> None:
    email = f"{uuid.uuid4().hex[:10]}@Example.COM"
    ann = await sign_up(running.http, email)
    me = await running.http.get("/api/me", headers=ann.headers)
    assert me.status_code == 200
    assert (me.json()["user_id"], me.json()["email"], me.json()["orgs"]) == (
        ann.user_id,
        email.lower(),
        [],
    )
    wrong = await running.http.post(
        "/api/auth/login", json={"email": email, "password": "not the password"}
    )
    assert wrong.status_code == 401 and wrong.json()["type"].endswith("/unauthenticated")
    nobody = await running.http.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    assert nobody.status_code == 401
    assert wrong.json()["detail"] == nobody.json()["detail"]  # no account enumeration


async def test_concurrent_registrations_of_one_email_have_one_winner(running: Running) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    answers = await asyncio.gather(
        *(
            running.http.post(
                "/api/auth/register",
                json={
                    "email": email.upper() if i % 2 else email,
                    "password": PASSWORD,
                    "name": f"Twin {i}",
                },
            )
            for i in range(8)
        )
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7


async def test_refresh_rotates_and_a_spent_token_revokes_the_whole_session(
    running: Running,
) -> None:
    ann = await running.account()
    first = await running.http.post("/api/auth/refresh", json={"refresh_token": ann.refresh_token})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != ann.refresh_token
    replay = await running.http.post("/api/auth/refresh", json={"refresh_token": ann.refresh_token})
    assert replay.status_code == 401
    after = await running.http.post(
        "/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert after.status_code == 401, "the reuse must revoke the newest token too"
    for token in (ann.access_token, rotated["access_token"]):
        me = await running.http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401, "access tokens of a revoked session must stop at once"
    again = await sign_in(running.http, ann.email)  # a new sign-in opens a new session
    assert (await running.http.get("/api/me", headers=again.headers)).status_code == 200


async def test_logout_ends_the_session(running: Running) -> None:
    ann = await running.account()
    out = await running.http.post("/api/auth/logout", json={"refresh_token": ann.refresh_token})
    assert out.status_code == 204
    assert (await running.http.get("/api/me", headers=ann.headers)).status_code == 401
    refresh = await running.http.post(
        "/api/auth/refresh", json={"refresh_token": ann.refresh_token}
    )
    assert refresh.status_code == 401


async def test_bad_tokens_are_refused(running: Running) -> None:
    ann = await running.account()
    header, payload, signature = ann.access_token.split(".")
    for token in (
        f"{header}.{payload}.{signature[:-4]}AAAA",
        f"{header}.{payload}.",
        "garbage",
        "a.b.c",
    ):
        answer = await running.http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, token
        assert answer.headers["www-authenticate"] == "Bearer"
    assert (await running.http.get("/api/me")).status_code == 401


async def test_the_signing_keys_are_published(running: Running) -> None:
    jwks = (await running.http.get("/api/auth/jwks.json")).json()
    assert jwks["keys"] and all(k["alg"] == "ES256" and "d" not in k for k in jwks["keys"])


async def test_every_answer_carries_the_gate_headers(running: Running) -> None:
    answer = await running.http.get("/api/health", headers={"X-Request-Id": "trace-12345678"})
    assert answer.headers["x-request-id"] == "trace-12345678"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    generated = await running.http.get("/api/health")
    assert len(generated.headers["x-request-id"]) == 32


async def test_google_sign_in_creates_then_finds_the_account(running: Running) -> None:
    subject, email = uuid.uuid4().hex, f"{uuid.uuid4().hex[:10]}@gmail.com"
    first = await running.http.post(
        "/api/auth/google", json={"id_token": running.google.id_token(subject, email)}
    )
    assert first.status_code == 200, first.text
    again = await running.http.post(
        "/api/auth/google", json={"id_token": running.google.id_token(subject, email)}
    )
    me = [
        (
            await running.http.get(
                "/api/me", headers={"Authorization": f"Bearer {answer.json()['access_token']}"}
            )
        ).json()
        for answer in (first, again)
    ]
    assert me[0]["user_id"] == me[1]["user_id"] and me[0]["email"] == email


async def test_google_sign_in_links_a_password_account_with_the_same_verified_email(
    running: Running,
) -> None:
    ann = await running.account()
    answer = await running.http.post(
        "/api/auth/google", json={"id_token": running.google.id_token(uuid.uuid4().hex, ann.email)}
    )
    assert answer.status_code == 200
    token = answer.json()["access_token"]
    me = (await running.http.get("/api/me", headers={"Authorization": f"Bearer {token}"})).json()
    assert me["user_id"] == ann.user_id


async def test_foreign_or_forged_google_tokens_are_refused(running: Running) -> None:
    subject, email = uuid.uuid4().hex, "someone@gmail.com"
    wrong_audience = running.google.id_token(subject, email, audience="someone-else")
    wrong_issuer = running.google.id_token(subject, email, issuer="https://evil.example.com")
    header, payload, signature = running.google.id_token(subject, email).split(".")
    tampered = f"{header}.{payload[:-2]}AA.{signature}"
    for token in (wrong_audience, wrong_issuer, tampered, "not-a-token"):
        answer = await running.http.post("/api/auth/google", json={"id_token": token})
        assert answer.status_code == 401, token


async def test_a_deactivated_account_can_neither_use_its_tokens_nor_sign_in(
    running: Running,
) -> None:
    ann = await running.account()
    second_session = await sign_in(running.http, ann.email)
    gone = await running.http.post("/api/me/deactivate", headers=ann.headers)
    assert gone.status_code == 204
    for session in (ann, second_session):
        assert (await running.http.get("/api/me", headers=session.headers)).status_code == 401
        refresh = await running.http.post(
            "/api/auth/refresh", json={"refresh_token": session.refresh_token}
        )
        assert refresh.status_code == 401
    login = await running.http.post(
        "/api/auth/login", json={"email": ann.email, "password": PASSWORD}
    )
    assert login.status_code == 401


async def test_every_sign_in_and_refresh_is_on_the_users_audit_trail(running: Running) -> None:
    ann = await running.account()
    again = await sign_in(running.http, ann.email)
    await running.http.post("/api/auth/refresh", json={"refresh_token": again.refresh_token})
    trail = await running.http.get(f"/api/audit/users/{ann.user_id}/events", headers=ann.headers)
    assert [e["type"] for e in trail.json()["items"]] == [
        "UserRegistered",
        "UserSignedIn",
        "UserSignedIn",
        "UserTokenRotated",
    ]
    assert all(
        "token_hash" not in e["data"] and "password_hash" not in e["data"]
        for e in trail.json()["items"]
    )
    stranger = await running.account()
    other = await running.http.get(
        f"/api/audit/users/{ann.user_id}/events", headers=stranger.headers
    )
    assert other.status_code == 404
