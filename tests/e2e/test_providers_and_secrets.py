"""Provider credentials, invitation mail, and secrets that never show in clear anywhere."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from broker.topics import all_topics
from tests.e2e.conftest import Running
from tests.support.accounts import PASSWORD, Account
from tests.support.kafka import read_topic
from tests.support.mailbox import invitation_link_token, messages_to
from tests.support.waiting import eventually
from tests.support.world import REPO

S3 = {
    "access_key_id": "AKIAEXAMPLE",
    "secret_access_key": "s3-SECRET-abcdef1234567890",
    "region": "eu-west-1",
}
SMTP = {
    "host": "smtp.example.com",
    "port": "587",
    "from_address": "studio@example.com",
    "username": "studio",
    "password": "smtp-SECRET-0987654321",
}


async def new_studio(running: Running, name: str) -> tuple[Account, str]:
    owner = await running.account()
    org = (await running.http.post("/api/orgs", json={"name": name}, headers=owner.headers)).json()
    # Wait, once, until the read side knows the new owner (a frontend sends the token along).
    await running.http.get(
        "/api/me", headers={**owner.headers, "X-Consistency-Token": org["consistency_token"]}
    )
    return owner, org["org_id"]


async def test_provider_settings_show_only_their_public_half(running: Running) -> None:
    owner, org_id = await new_studio(running, "Providers")
    put = await running.http.put(f"/api/orgs/{org_id}/providers/s3", json=S3, headers=owner.headers)
    assert put.status_code == 200, put.text
    listed = await running.http.get(
        f"/api/orgs/{org_id}/providers",
        headers={**owner.headers, "X-Consistency-Token": put.json()["consistency_token"]},
    )
    [s3] = listed.json()["items"]
    assert s3["public"] == {"access_key_id": "AKIAEXAMPLE", "region": "eu-west-1"}
    assert s3["secrets_set"] == ["secret_access_key"]
    assert S3["secret_access_key"] not in listed.text
    missing = await running.http.put(
        f"/api/orgs/{org_id}/providers/s3", json={"access_key_id": "x"}, headers=owner.headers
    )
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["errors"]} <= {"region", "secret_access_key"}
    unknown = await running.http.put(
        f"/api/orgs/{org_id}/providers/ftp", json=S3, headers=owner.headers
    )
    assert unknown.status_code == 404


async def test_an_invitation_sends_one_mail_whose_link_lets_the_invitee_join(
    running: Running,
) -> None:
    owner, org_id = await new_studio(running, "Mail Studio")
    guest = await running.account()
    invited = await running.http.post(
        f"/api/orgs/{org_id}/invitations",
        json={"email": guest.email, "role": "photographer"},
        headers=owner.headers,
    )
    assert invited.status_code == 201
    mailbox = running.world.mailbox

    async def mails() -> int:
        return len(messages_to(mailbox, guest.email))

    await eventually(mails, lambda n: n >= 1, timeout=30, what="the invitation mail")
    await asyncio.sleep(1.5)  # a second mail for the same event would have arrived by now
    [mail] = messages_to(mailbox, guest.email)
    token = invitation_link_token(mail)
    joined = await running.http.post(f"/api/invitations/{token}/accept", headers=guest.headers)
    assert joined.status_code == 200 and joined.json()["role"] == "photographer"


async def test_no_secret_shows_in_clear_in_answers_logs_kafka_or_stored_events(
    running: Running,
) -> None:
    owner, org_id = await new_studio(running, "Secret Studio")
    answers: list[str] = []
    for kind, fields in (("s3", S3), ("smtp", SMTP)):
        put = await running.http.put(
            f"/api/orgs/{org_id}/providers/{kind}", json=fields, headers=owner.headers
        )
        answers.append(put.text)
    guest = await running.account()
    await running.http.post(
        f"/api/orgs/{org_id}/invitations",
        json={"email": guest.email, "role": "viewer"},
        headers=owner.headers,
    )

    async def mails() -> int:
        return len(messages_to(running.world.mailbox, guest.email))

    await eventually(mails, lambda n: n >= 1, timeout=30, what="the invitation mail")
    invitation_secret = invitation_link_token(messages_to(running.world.mailbox, guest.email)[0])
    refresh_secret = owner.refresh_token.rpartition(".")[2]
    secrets = {
        "password": PASSWORD,
        "refresh": refresh_secret,
        "s3": S3["secret_access_key"],
        "smtp": SMTP["password"],
        "invitation": invitation_secret.rpartition(".")[2],
    }

    for path in (
        f"/api/audit/orgs/{org_id}/events",
        f"/api/audit/orgs/{org_id}/state",
        f"/api/audit/users/{owner.user_id}/events",
        f"/api/audit/users/{owner.user_id}/state",
        f"/api/orgs/{org_id}/providers",
        f"/api/orgs/{org_id}/invitations",
        "/api/me",
    ):
        answers.append((await running.http.get(path, headers=owner.headers)).text)
    await asyncio.sleep(1)  # let the relay publish what was just recorded
    kafka = [
        str(m.envelope)
        for topic in all_topics()
        for m in await read_topic(
            running.world.settings.kafka_bootstrap, running.world.topic(topic)
        )
    ]
    stored = await stored_events(running)
    log = platform_log(running)
    for name, secret in secrets.items():
        for where, texts in (
            ("an answer", answers),
            ("Kafka", kafka),
            ("the event store", stored),
            ("the log", [log]),
        ):
            assert not any(secret in text for text in texts), f"{name} secret in {where}"
    assert not any(owner.access_token in text for text in kafka + stored + [log])
    assert not any(owner.email in row for row in stored if "identity" in row[:40]), (
        "the identity event store is encrypted at rest"
    )


async def stored_events(running: Running) -> list[str]:
    conn = await asyncpg.connect(running.world.settings.database_url)
    try:
        rows: list[str] = []
        for schema, table in (
            ("identity", "identity_events"),
            ("provider", "providers_events"),
            ("organization", "organizations_events"),
            ("sender", "sender_events"),
        ):
            for record in await conn.fetch(f"SELECT state FROM {schema}.{table}"):
                rows.append(f"{schema}: " + bytes(record["state"]).decode("latin-1"))
        return rows
    finally:
        await conn.close()


def platform_log(running: Running) -> str:
    logs = Path(REPO / "var" / "test-logs")
    return "\n".join(
        p.read_text(errors="replace")
        for p in logs.glob(f"{running.world.settings.namespace}-*.log")
    )
