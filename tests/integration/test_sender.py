"""The Sender on the real services: an invitation event on Kafka becomes exactly one email.

The mail server is a real SMTP server (aiosmtpd) on a free local port; it can be told to
refuse the first messages, as a busy server would.
"""

from __future__ import annotations

import asyncio
import email
import hashlib
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Session
from aiosmtpd.smtp import Envelope as SmtpEnvelope
from eventsourcing.application import Application

from broker.envelope import Envelope, Event
from broker.relay import Relay, RelaySource, make_producer
from broker.sender_consumer import SenderConsumer
from broker.topics import ORGS, all_topics
from commands.group_commit import GroupCommitter
from commands.organizations import invitation_token
from commands.sender import (
    Mailer,
    OutgoingMail,
    RetryPolicy,
    SenderApplication,
    SenderService,
)
from domains.delivery import Delivery
from domains.organization import Organization
from domains.policies import Role
from infra.bootstrap import Platform
from infra.eventstore import open_application
from infra.keys import invitation_key
from infra.mail import JinjaRenderer, MailboxMailer, SmtpMailer
from tests.support.kafka import read_topic
from tests.support.waiting import eventually
from tests.support.world import World, free_port

PUBLIC_URL = "http://photoflow.test"
LINK = re.compile(re.escape(PUBLIC_URL) + r"/invite/([A-Za-z0-9._-]+)")
FAST_RETRIES = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2)


@dataclass
class MailServer:
    """What the SMTP server received, and how many DATA commands it should still refuse."""

    port: int
    refusals: int = 0
    refusal: str = "451 4.3.0 try later"
    echo_link: bool = False
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refused: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: SmtpEnvelope) -> str:
        content = bytes(envelope.original_content or b"")
        if self.refusals > 0:
            self.refusals -= 1
            self.refused += 1
            if self.echo_link:  # a chatty server quoting the message back in its error
                found = LINK.search(content.decode(errors="replace"))
                return f"{self.refusal} {found.group(0) if found else ''}"
            return self.refusal
        message = email.message_from_bytes(content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class Invited:
    org_id: UUID
    invitation_id: UUID
    email: str
    token: str


@dataclass
class Sender:
    app: Application[UUID]
    service: SenderService
    key: bytes

    def delivery_events(self, envelope: Envelope, recipient: str) -> list[Any]:
        return list(self.app.events.get(Delivery.create_id(envelope.id, recipient)))


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
async def sender_app(world: World) -> AsyncIterator[Application[UUID]]:
    app = await asyncio.to_thread(open_application, SenderApplication, world.settings, "sender")
    try:
        yield app
    finally:
        app.close()


def smtp_mailer(server: MailServer) -> SmtpMailer:
    return SmtpMailer("127.0.0.1", server.port, None, None, False, "PhotoFlow <pf@example.org>")


@asynccontextmanager
async def open_sender(app: Application[UUID], mailer: Mailer, key: bytes) -> AsyncIterator[Sender]:
    async with GroupCommitter(app) as committer:
        service = SenderService(
            committer, mailer, JinjaRenderer(), key, PUBLIC_URL + "/", FAST_RETRIES
        )
        yield Sender(app, service, key)


@pytest.fixture
async def sender(
    sender_app: Application[UUID], mail_server: MailServer, tmp_path: Path
) -> AsyncIterator[Sender]:
    key = invitation_key(tmp_path / "keys")
    async with open_sender(sender_app, smtp_mailer(mail_server), key) as opened:
        yield opened


async def invite(platform: Platform, key: bytes, email_address: str) -> Invited:
    """A studio that invited someone, saved as the Organization context saves it."""
    owner, invitation_id = uuid4(), uuid4()
    org = Organization.create(name="Atelier Lumière", owner_id=owner)
    token = invitation_token(key, org.id, invitation_id)
    token_hash = hashlib.sha256(token.rpartition(".")[2].encode()).hexdigest()
    expires_at = datetime.now(UTC) + timedelta(days=7)
    org.invite(invitation_id, email_address, Role.PHOTOGRAPHER, token_hash, expires_at, owner)
    await asyncio.to_thread(platform.apps[ORGS.name].save, org)
    return Invited(org.id, invitation_id, email_address, token)


async def relay_all(platform: Platform, *apps: Application[UUID]) -> None:
    """Publish everything these applications recorded, as the platform's relay does."""
    producer = make_producer(platform.settings.kafka_bootstrap)
    await producer.start()
    prefix = platform.settings.topic_prefix
    relay = Relay([RelaySource(app, prefix) for app in apps], platform.pool, producer, 500)
    task = asyncio.create_task(relay.run())
    try:
        await eventually(relay.lag, lambda lag: lag == 0, what="relay caught up")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()


async def invitation_on_kafka(world: World) -> tuple[Envelope, bytes]:
    """The OrganizationInvitationSent message as the relay published it (envelope, raw)."""
    messages = await read_topic(world.settings.kafka_bootstrap, world.topic(ORGS.topic))
    [found] = [m for m in messages if m.envelope["type"] == "OrganizationInvitationSent"]
    return Envelope.model_validate(found.envelope), orjson.dumps(found.envelope)


@asynccontextmanager
async def consuming(
    world: World, sender: Sender, platform: Platform
) -> AsyncIterator[SenderConsumer]:
    s = world.settings
    consumer = SenderConsumer(
        sender.service.handle,
        s.kafka_bootstrap,
        await platform.message_policy("sender"),
        namespace=s.namespace,
        topic_prefix=s.topic_prefix,
        types=sender.service.types,  # as the platform passes it
    )
    task = asyncio.create_task(consumer.run())
    try:
        yield consumer
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert consumer.parked == 0, "a message was parked: see the log"


async def handled(consumer: SenderConsumer, count: int) -> None:
    async def progress() -> tuple[int, int]:
        return consumer.handled, consumer.lag()

    await eventually(progress, lambda p: p[0] >= count and p[1] == 0, what="consumer caught up")


def link_token(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found, "no invitation link in the email"
    return found.group(1)


def event_names(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


async def test_an_invitation_on_kafka_sends_one_email_with_a_working_link(
    world: World, platform: Platform, mail_server: MailServer, sender: Sender
) -> None:
    invited = await invite(platform, sender.key, "ann@example.com")
    await relay_all(platform, platform.apps[ORGS.name])
    envelope, _ = await invitation_on_kafka(world)

    async with consuming(world, sender, platform) as consumer:
        await handled(consumer, 3)  # Created, MemberAdded, InvitationSent

    [(recipients, message)] = mail_server.received
    assert recipients == ["ann@example.com"]
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == "Your invitation to a PhotoFlow studio"
    token = link_token(message)
    assert token == invitation_token(sender.key, invited.org_id, invited.invitation_id)
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert f'href="{PUBLIC_URL}/invite/{token}"' in html.get_content()
    events = sender.delivery_events(envelope, "ann@example.com")
    assert event_names(events) == ["Queued", "Sent"]
    queued, sent = events
    assert (queued.cause_event_id, queued.org_id, queued.kind) == (
        envelope.id,
        invited.org_id,
        "invitation",
    )
    assert (sent.attempt, sent.message_id) == (1, message["Message-ID"])


async def test_the_same_event_twice_sends_one_email(
    world: World, platform: Platform, mail_server: MailServer, sender: Sender
) -> None:
    await invite(platform, sender.key, "bob@example.com")
    await relay_all(platform, platform.apps[ORGS.name])
    envelope, raw = await invitation_on_kafka(world)
    producer = AIOKafkaProducer(bootstrap_servers=world.settings.kafka_bootstrap)
    await producer.start()
    try:
        for _ in range(2):  # the relay republishing after a crash, twice
            key = str(envelope.aggregate_id).encode()
            await producer.send_and_wait(world.topic(ORGS.topic), raw, key=key)
    finally:
        await producer.stop()

    async with consuming(world, sender, platform) as consumer:
        await handled(consumer, 5)
    await asyncio.gather(sender.service.handle(envelope), sender.service.handle(envelope))
    await sender.service.handle(envelope)

    assert [rcpt for rcpt, _ in mail_server.received] == [["bob@example.com"]]
    events = sender.delivery_events(envelope, "bob@example.com")
    assert event_names(events) == ["Queued", "Sent"]


async def test_a_refusing_server_is_retried_until_it_accepts(
    world: World, platform: Platform, mail_server: MailServer, sender: Sender
) -> None:
    await invite(platform, sender.key, "cleo@example.com")
    await relay_all(platform, platform.apps[ORGS.name])
    envelope, _ = await invitation_on_kafka(world)
    mail_server.refusals = 1

    async with consuming(world, sender, platform) as consumer:
        await handled(consumer, 3)

    assert mail_server.refused == 1
    assert [rcpt for rcpt, _ in mail_server.received] == [["cleo@example.com"]]
    events = sender.delivery_events(envelope, "cleo@example.com")
    assert event_names(events) == ["Queued", "AttemptFailed", "Sent"]
    _, failed, sent = events
    assert (failed.attempt, sent.attempt) == (1, 2)
    assert failed.error.startswith("451")
    assert failed.retry_at is not None and failed.retry_at > failed.timestamp


class CrashAfterSending:
    """A mailer whose process 'dies' once right after the server accepted the message."""

    def __init__(self, inner: Mailer) -> None:
        self._inner = inner
        self.crashed = False

    async def send(self, mail: OutgoingMail) -> None:
        await self._inner.send(mail)
        if not self.crashed:
            self.crashed = True
            raise SystemError("killed before Sent was recorded")


async def test_a_crash_between_sending_and_recording_resends_once_with_the_same_id(
    world: World,
    platform: Platform,
    mail_server: MailServer,
    sender_app: Application[UUID],
    tmp_path: Path,
) -> None:
    key = invitation_key(tmp_path / "keys")
    await invite(platform, key, "gus@example.com")
    await relay_all(platform, platform.apps[ORGS.name])
    envelope, _ = await invitation_on_kafka(world)
    async with open_sender(sender_app, CrashAfterSending(smtp_mailer(mail_server)), key) as s:
        with pytest.raises(SystemError):
            await s.service.handle(envelope)
        await s.service.handle(envelope)  # Kafka redelivers the uncommitted event
        await s.service.handle(envelope)

    first, second = (message for _, message in mail_server.received)
    assert first["Message-ID"] == second["Message-ID"]
    assert event_names(s.delivery_events(envelope, "gus@example.com")) == ["Queued", "Sent"]


@pytest.mark.parametrize(
    ("refusal", "attempts"),
    [("451 4.3.0 try later", FAST_RETRIES.max_attempts), ("550 5.1.1 no such user", 1)],
)
async def test_a_server_that_keeps_refusing_makes_the_sender_give_up(
    world: World,
    platform: Platform,
    mail_server: MailServer,
    sender: Sender,
    refusal: str,
    attempts: int,
) -> None:
    await invite(platform, sender.key, "dan@example.com")
    await relay_all(platform, platform.apps[ORGS.name])
    envelope, _ = await invitation_on_kafka(world)
    mail_server.refusals, mail_server.refusal = 100, refusal

    await sender.service.handle(envelope)
    await sender.service.handle(envelope)  # given up is final: no further attempt

    assert (mail_server.refused, mail_server.received) == (attempts, [])
    events = sender.delivery_events(envelope, "dan@example.com")
    assert event_names(events) == ["Queued", *["AttemptFailed"] * attempts, "GaveUp"]


async def test_the_link_secret_is_never_stored_nor_published(
    world: World, platform: Platform, mail_server: MailServer, sender: Sender
) -> None:
    invited = await invite(platform, sender.key, "eve@example.com")
    await relay_all(platform, platform.apps[ORGS.name])
    mail_server.refusals, mail_server.echo_link = 1, True  # its error quotes the link back
    async with consuming(world, sender, platform) as consumer:
        await handled(consumer, 3)
    await relay_all(platform, platform.apps[ORGS.name], sender.app)
    assert len(mail_server.received) == 1
    secret = invited.token.rpartition(".")[2]
    assert link_token(mail_server.received[0][1]) == invited.token

    conn = await asyncpg.connect(world.settings.database_url)
    try:
        rows = await conn.fetch("SELECT topic, state FROM sender.sender_events")
    finally:
        await conn.close()
    assert any(r["topic"].endswith(".AttemptFailed") for r in rows)
    stored = b"\n".join(bytes(r["state"]) for r in rows)
    assert b"[redacted]" in stored, "the echoed link should have been scrubbed"
    pieces = {secret[i : i + 8].encode() for i in range(len(secret) - 7)}
    assert not any(piece in stored for piece in pieces), "a piece of the secret was stored"

    for topic in all_topics():
        for m in await read_topic(world.settings.kafka_bootstrap, world.topic(topic)):
            published = orjson.dumps(m.envelope)
            assert not any(piece in published for piece in pieces), topic


async def test_the_mailbox_keeps_one_readable_file_per_message(
    world: World, platform: Platform, sender_app: Application[UUID], tmp_path: Path
) -> None:
    key = invitation_key(tmp_path / "keys")
    invited = await invite(platform, key, "fay@example.com")
    await relay_all(platform, platform.apps[ORGS.name])
    envelope, _ = await invitation_on_kafka(world)
    mailbox = tmp_path / "mailbox"
    async with open_sender(sender_app, MailboxMailer(mailbox), key) as opened:
        await opened.service.handle(envelope)
        await opened.service.handle(envelope)

    [path] = mailbox.iterdir()
    assert path.suffix == ".eml" and path.name.startswith("fay@example.com--")
    message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(message, EmailMessage)
    assert message["To"] == "fay@example.com"
    assert link_token(message) == invited.token


async def test_events_that_call_for_no_message_are_passed_by_on_their_type_header(
    world: World, platform: Platform, sender: Sender
) -> None:
    """The consumer reads each record's ``type`` header: a studio's creation and its owner
    never reach the handler, the invitation does, and all count as handled. A record with
    no header (not from our relay) is decoded and handled as before."""
    await invite(platform, sender.key, "bea@example.com")
    await relay_all(platform, platform.apps[ORGS.name])
    _, raw = await invitation_on_kafka(world)
    producer = make_producer(world.settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(world.topic(ORGS.topic), raw, key=b"no-headers")
    finally:
        await producer.stop()
    reached: list[str] = []

    async def record(envelope: Event) -> None:
        reached.append(envelope.type)

    s = world.settings
    consumer = SenderConsumer(
        record,
        s.kafka_bootstrap,
        await platform.message_policy("sender"),
        namespace=s.namespace,
        topic_prefix=s.topic_prefix,
        types=sender.service.types,
    )
    task = asyncio.create_task(consumer.run())
    try:
        await handled(consumer, 4)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert reached == ["OrganizationInvitationSent"] * 2
