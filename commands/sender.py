"""The Sender context: the messages other contexts' events call for, each delivered once.

``SenderService.handle`` takes one published event. If the event calls for a message (for now
an invitation email on ``OrganizationInvitationSent``) it renders it, records a ``Delivery``
whose id derives from the event's id and the recipient, sends through the ``Mailer`` port and
records the outcome. A failed attempt is recorded with its retry time and retried after an
exponential, jittered back-off, until it is sent or the attempts run out (``GaveUp``).

Exactly once, and the window that remains. The delivery is created before the first send and
every outcome is recorded after it, so a redelivered event (Kafka is at least once) finds the
delivery and does nothing once it is ``Sent`` or ``GaveUp``, resumes the retries where they
stopped while it is still queued, and never creates a second delivery. What no event store can
close is a crash after the mail server accepted a message and before ``Sent`` is saved: the
redelivered event then sends that message once more. Each such crash re-sends at most once, and
the copy carries the same ``Message-ID`` (derived from the delivery id), so mail clients that
collapse duplicates show one message. Within one process a lock per delivery keeps two
concurrent ``handle`` calls for one event from both sending; across processes Kafka gives one
partition, so one event, to one consumer of the group at a time (a rebalance during a send is
the same window as a crash: at most one more copy, with the same ``Message-ID``).

An invitation that has expired gets no email, even when its delivery is still retrying: that
also keeps a new consumer group, which starts from the oldest event, from mailing stale links.

Link secrets (the invitation token) are in the message body only: the subject is checked to be
free of them and mail-server errors are scrubbed of them before anything is recorded.

An album's client is personal data (``domains.personal_data``): its mail goes to the address
the read tables hold while the client's key exists, and the delivery records that address and
every album mail's subject (which may name the client) only sealed with the client's key, so
forgetting the client leaves no readable trace in the Sender's events either. A forgotten
client gets no mail: the read tables no longer hold an address.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from uuid import UUID

from eventsourcing.application import Application

from broker.envelope import Event
from commands.album_access import share_token
from commands.client_keys import ClientKeys
from commands.group_commit import Batch, GroupCommitter
from commands.organizations import invitation_token
from domains.delivery import Delivery, Status, clean_subject
from domains.errors import ConcurrencyConflict, InvalidValue
from domains.user import normalise_email

log = logging.getLogger(__name__)

INVITATION_SENT = "OrganizationInvitationSent"
_TOKEN_PIECE = re.compile(r"[A-Za-z0-9_-]{6,}")


class SenderApplication(Application[UUID]):
    """Events of the Sender context, stored in table ``sender_events``."""

    name = "Sender"


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and how patiently, a refused message is tried again."""

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds before the attempt after ``attempt``: doubling, with 'equal jitter'.

        Half the doubled delay is fixed and half random, so retries of many messages refused
        at once (a mail server restarting) spread out instead of arriving together again.
        """
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


@dataclass(frozen=True)
class OutgoingMail:
    """One message as the ``Mailer`` sends it; ``message_id`` is the same on every attempt."""

    message_id: str
    recipient: str
    subject: str
    text: str
    html: str | None


class MailRefused(Exception):
    """The mail server did not take the message; ``permanent`` when retrying cannot help."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Mailer(Protocol):
    """The port every way of sending mail implements (see ``infra.mail``)."""

    async def send(self, mail: OutgoingMail) -> None:
        """Hand the message over, or raise ``MailRefused``."""
        ...


class Renderer(Protocol):
    def render(self, kind: str, context: Mapping[str, object]) -> Rendered: ...


StudioName = Callable[[UUID], Awaitable[str | None]]
AlbumInfo = Callable[[UUID, int], Awaitable[Mapping[str, object] | None]]
"""An album's title, client_name, client_email, photographer_email, selection_count and
share_nonce, from the read tables."""
ALBUM_DIGEST = "AlbumActivityDigest"
AlbumComments = Callable[[UUID, datetime, datetime], Awaitable[Sequence[Mapping[str, object]]]]
"""The client comments an album received in a period (author, text, photo name)."""
ALBUM_MAILS = {
    "AlbumSelectionSubmitted": "album_submitted",
    "AlbumChangesRequested": "album_changes_requested",
    "AlbumDelivered": "album_delivered",
}
"""The album events that call for a mail, and the template of each."""
LEGACY_ALBUM_STEP = "AlbumStateChanged"
"""Published before every step had its own event; its ``command`` names the step."""
LEGACY_ALBUM_MAILS = {
    "submit": "album_submitted",
    "request_changes": "album_changes_requested",
    "deliver": "album_delivered",
}
"""Looks a studio's name up (a read table); None when it is unknown."""


@dataclass(frozen=True)
class Message:
    """What an event calls for, and the secrets in it that must never be recorded."""

    kind: str
    recipient: str
    rendered: Rendered
    secrets: tuple[str, ...]
    recorded_recipient: str | None = None
    """What the delivery records instead of ``recipient`` (sealed), if not the address itself."""
    recorded_subject: str | None = None
    """What the delivery records instead of the subject (sealed), if not the subject itself."""

    @property
    def recipient_on_record(self) -> str:
        return self.recorded_recipient or self.recipient

    def redact(self, text: str) -> str:
        """``text`` without the secrets, nor any piece of them (a server may echo a cut link)."""
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")

        def scrub(piece: re.Match[str]) -> str:
            found = any(piece.group() in secret for secret in self.secrets)
            return "[redacted]" if found else piece.group()

        return _TOKEN_PIECE.sub(scrub, text)


@dataclass(frozen=True)
class Progress:
    """A delivery's state, as the last decision on it left it."""

    status: Status
    next_attempt: int
    retry_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> Progress:
        return cls(delivery.status, delivery.next_attempt, delivery.retry_at)


class SenderService:
    """Turns events into delivered messages; one instance per process."""

    def __init__(
        self,
        committer: GroupCommitter,
        mailer: Mailer,
        renderer: Renderer,
        invitation_key: bytes,
        public_url: str,
        retry: RetryPolicy | None = None,
        *,
        studio_name: StudioName | None = None,
        album_info: AlbumInfo | None = None,
        album_comments: AlbumComments | None = None,
        client_keys: ClientKeys | None = None,
        mail_domain: str = "photoflow.local",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self._committer = committer
        self._mailer = mailer
        self._renderer = renderer
        self._invitation_key = invitation_key
        self._public_url = public_url.rstrip("/")
        self._retry = retry or RetryPolicy()
        self._studio_name = studio_name
        self._album_info = album_info
        self._album_comments = album_comments
        self._client_keys = client_keys
        self._mail_domain = mail_domain
        self._now = now
        self._rng = rng or random.Random()
        self._locks: weakref.WeakValueDictionary[UUID, asyncio.Lock] = weakref.WeakValueDictionary()
        self._composers: dict[str, Callable[[Event], Awaitable[Message | None]]] = {
            INVITATION_SENT: self._invitation,
            **dict.fromkeys(ALBUM_MAILS, self._album_step),
            LEGACY_ALBUM_STEP: self._album_step,
            ALBUM_DIGEST: self._album_digest,
        }

    @property
    def types(self) -> frozenset[str]:
        """The event types that may call for a message; every other one is passed by."""
        return frozenset(self._composers)

    async def handle(self, envelope: Event) -> None:
        """Deliver what the event calls for, once; return when it is sent or given up."""
        compose = self._composers.get(envelope.type)
        message = await compose(envelope) if compose is not None else None
        if message is None:
            return
        delivery_id = Delivery.create_id(envelope.id, message.recipient_on_record)
        lock = self._locks.setdefault(delivery_id, asyncio.Lock())
        async with lock:
            await self._deliver(delivery_id, envelope, message)

    # Composing -------------------------------------------------------------------------------

    async def _invitation(self, envelope: Event) -> Message | None:
        data = envelope.data
        expires_at = datetime.fromisoformat(str(data["expires_at"]))
        if expires_at <= self._now():
            log.info("invitation %s has expired: no email", data["invitation_id"])
            return None
        try:
            recipient = normalise_email(str(data["email"]))
        except InvalidValue:
            log.error("event %s: %r is no email address; nothing to send", envelope.id, data)
            return None
        invitation_id = UUID(str(data["invitation_id"]))
        token = invitation_token(self._invitation_key, envelope.aggregate_id, invitation_id)
        context = {
            "studio": await self._studio(envelope.aggregate_id),
            "role": str(data["role"]),
            "recipient": recipient,
            "link": f"{self._public_url}/invite/{token}",
            "expires": expires_at.astimezone(UTC).strftime("%d %B %Y, %H:%M UTC"),
        }
        rendered = self._renderer.render("invitation", context)
        secrets = (token, token.rpartition(".")[2])
        if any(secret in rendered.subject for secret in secrets):
            raise ValueError("the invitation subject must not contain its link")
        return Message("invitation", recipient, rendered, secrets)

    async def _album_step(self, envelope: Event) -> Message | None:
        """The photographer hears of a submitted selection or a request for changes; the client
        of a delivery, with the album's link. Picks and ratings send nothing."""
        kind = ALBUM_MAILS.get(envelope.type)
        if envelope.type == LEGACY_ALBUM_STEP:
            kind = LEGACY_ALBUM_MAILS.get(str(envelope.data.get("command")))
        if kind is None or self._album_info is None:
            return None
        info = await self._album_info(envelope.aggregate_id, envelope.version)
        if info is None:
            log.error("album %s is not in the read tables: no %s mail", envelope.aggregate_id, kind)
            return None
        context = {
            **info,
            "note": envelope.data.get("note") or "",
            "link": f"{self._public_url}/app/albums/{envelope.aggregate_id}",
        }
        secrets: tuple[str, ...] = ()
        recipient = str(info["photographer_email"])
        if kind == "album_delivered":
            if not info.get("share_nonce"):  # revoked (or shared before links had a nonce)
                log.warning(
                    "album %s has no share link to send; no delivery mail", envelope.aggregate_id
                )
                return None
            token = share_token(
                self._invitation_key, envelope.aggregate_id, str(info["share_nonce"])
            )
            context["link"] = f"{self._public_url}/g/{token}"
            secrets = (token, token.rpartition(".")[2])
            recipient = str(info["client_email"])
        try:
            recipient = normalise_email(recipient)
        except InvalidValue:
            log.error("album %s: no email address to send a %s to", envelope.aggregate_id, kind)
            return None
        rendered = self._renderer.render(kind, context)
        key = None
        if self._client_keys is not None:
            key = await self._client_keys.key_to_seal(envelope.aggregate_id)
        if key is None:  # no key store (tests), or forgotten between the read and now
            return Message(kind, recipient, rendered, secrets)
        to_client = kind == "album_delivered"
        personal = (str(info.get("client_email") or ""), str(info.get("client_name") or ""))
        return Message(
            kind,
            recipient,
            rendered,
            secrets + tuple(p for p in personal if p) if to_client else secrets,
            recorded_recipient=key.seal(recipient) if to_client else None,
            recorded_subject=key.seal(clean_subject(rendered.subject)),
        )

    async def _album_digest(self, envelope: Event) -> Message | None:
        """One mail per album and period listing the client's comments, not one per click."""
        if self._album_info is None or self._album_comments is None:
            return None
        start = datetime.fromisoformat(str(envelope.data["start"]))
        end = datetime.fromisoformat(str(envelope.data["end"]))
        comments = await self._album_comments(envelope.aggregate_id, start, end)
        info = await self._album_info(envelope.aggregate_id, 0)
        if not comments or info is None or not info.get("photographer_email"):
            return None
        context = {
            **info,
            "comments": comments,
            "link": f"{self._public_url}/app/albums/{envelope.aggregate_id}",
        }
        recipient = normalise_email(str(info["photographer_email"]))
        return Message(
            "album_digest", recipient, self._renderer.render("album_digest", context), ()
        )

    async def _studio(self, org_id: UUID) -> str | None:
        if self._studio_name is None:
            return None
        try:
            return await self._studio_name(org_id)
        except Exception:  # the name is a courtesy: send without it rather than not at all
            log.warning("could not look studio %s up; the email names no studio", org_id)
            return None

    # Delivering ------------------------------------------------------------------------------

    async def _deliver(self, delivery_id: UUID, envelope: Event, message: Message) -> None:
        progress = await self._open(delivery_id, envelope, message)
        mail = OutgoingMail(
            message_id=f"<{delivery_id}@{self._mail_domain}>",
            recipient=message.recipient,
            subject=message.rendered.subject,
            text=message.rendered.text,
            html=message.rendered.html,
        )
        while progress.status is Status.QUEUED:
            await self._wait_until(progress.retry_at)
            progress = await self._attempt(delivery_id, progress.next_attempt, mail, message)

    async def _attempt(
        self, delivery_id: UUID, attempt: int, mail: OutgoingMail, message: Message
    ) -> Progress:
        try:
            await self._mailer.send(mail)
        except MailRefused as refused:
            error = message.redact(str(refused))
            delay = self._retry.delay(attempt, self._rng)
            retry_at = self._now() + timedelta(seconds=delay)
            log.warning("delivery %s attempt %d refused: %s", delivery_id, attempt, error)
            max_attempts, permanent = self._retry.max_attempts, refused.permanent

            def failed(delivery: Delivery) -> None:
                delivery.record_failure(attempt, error, retry_at, max_attempts, permanent)

            progress = await self._change(delivery_id, failed)
            if progress.status is Status.GAVE_UP:
                log.error("gave up delivery %s after attempt %d: %s", delivery_id, attempt, error)
            return progress

        def sent(delivery: Delivery) -> None:
            delivery.record_sent(attempt, mail.message_id)

        return await self._change(delivery_id, sent)

    async def _open(self, delivery_id: UUID, envelope: Event, message: Message) -> Progress:
        """The delivery for this event and recipient, queued now if it is new."""
        seen: list[Progress] = []

        def decide(batch: Batch) -> Delivery:
            if batch.exists(delivery_id):
                delivery = batch.get(Delivery, delivery_id)
            else:
                delivery = batch.add(_queued(message, envelope))
            seen.append(Progress.of(delivery))
            return delivery

        try:
            await self._committer.execute(decide)
        except ConcurrencyConflict:  # another process queued it first: load its delivery
            await self._committer.execute(decide)
        return seen[-1]

    async def _change(self, delivery_id: UUID, change: Callable[[Delivery], None]) -> Progress:
        seen: list[Progress] = []

        def decide(batch: Batch) -> Delivery:
            delivery = batch.get(Delivery, delivery_id)
            change(delivery)
            seen.append(Progress.of(delivery))
            return delivery

        await self._committer.execute(decide)
        return seen[-1]

    async def _wait_until(self, when: datetime | None) -> None:
        if when is None:
            return
        seconds = (when - self._now()).total_seconds()
        if seconds > 0:
            await asyncio.sleep(min(seconds, self._retry.max_delay))


def _queued(message: Message, envelope: Event) -> Delivery:
    """The new delivery of ``message``: checked by ``Delivery.queue`` when it records the
    address and subject themselves; built directly when it records them sealed (the address was
    normalised and the subject cleaned before they were sealed)."""
    if message.recorded_recipient is None and message.recorded_subject is None:
        return Delivery.queue(
            kind=message.kind,
            recipient=message.recipient,
            subject=message.rendered.subject,
            cause_event_id=envelope.id,
            org_id=envelope.org_id,
        )
    return Delivery(
        kind=message.kind,
        recipient=message.recorded_recipient or normalise_email(message.recipient),
        subject=message.recorded_subject or clean_subject(message.rendered.subject),
        cause_event_id=envelope.id,
        org_id=envelope.org_id,
    )
