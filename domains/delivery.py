"""The Delivery aggregate: one message the Sender owes one recipient because of one event.

Its id is derived from the causing event's id and the recipient, so a redelivered event finds
the delivery it already created instead of making a second one: that is what turns Kafka's
at-least-once delivery into one email per event. The events record who was written to, about
what, and how each attempt went; never the body, which may carry a secret (an invitation link).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domains.errors import InvalidValue, RuleBroken
from domains.user import normalise_email

DELIVERY_NAMESPACE = UUID("3c0d9a51-7f0e-4b8a-a2f6-5b7e1d2c9e40")
SUBJECT_MAX_LENGTH = 200
ERROR_MAX_LENGTH = 500


class Status(Enum):
    QUEUED = "queued"  # waiting for its first attempt, or for a retry
    SENT = "sent"
    GAVE_UP = "gave_up"


def clean_subject(subject: str) -> str:
    """One line of text: a line break in a header would let a value inject other headers."""
    cleaned = " ".join(subject.split())
    if not cleaned or len(cleaned) > SUBJECT_MAX_LENGTH:
        raise InvalidValue("subject", f"must be 1 to {SUBJECT_MAX_LENGTH} characters")
    return cleaned


def _short(error: str) -> str:
    cleaned = " ".join(error.split()) or "unknown error"
    return cleaned[:ERROR_MAX_LENGTH]


class Delivery(Aggregate):
    """A message to one recipient, attempted until it is sent or the attempts run out."""

    class Queued(Aggregate.Created):
        kind: str
        recipient: str
        subject: str
        cause_event_id: UUID
        org_id: UUID | None

    class Sent(Aggregate.Event):
        attempt: int
        message_id: str

    class AttemptFailed(Aggregate.Event):
        attempt: int
        error: str
        retry_at: datetime | None
        """None when no attempt follows: a ``GaveUp`` is recorded with it."""

    class GaveUp(Aggregate.Event):
        error: str

    @staticmethod
    def create_id(cause_event_id: UUID, recipient: str) -> UUID:
        """One delivery per (event, recipient): the event store refuses a second version 1."""
        return uuid5(DELIVERY_NAMESPACE, f"{cause_event_id}:{recipient}")

    @event(Queued)
    def __init__(
        self,
        kind: str,
        recipient: str,
        subject: str,
        cause_event_id: UUID,
        org_id: UUID | None,
    ) -> None:
        self.kind = kind
        self.recipient = recipient
        self.subject = subject
        self.cause_event_id = cause_event_id
        self.org_id = org_id
        self.status = Status.QUEUED
        self.attempts = 0
        self.retry_at: datetime | None = None
        self.message_id: str | None = None
        self.last_error: str | None = None

    @classmethod
    def queue(
        cls,
        kind: str,
        recipient: str,
        subject: str,
        cause_event_id: UUID,
        org_id: UUID | None,
    ) -> Delivery:
        """A new delivery; the recipient is normalised first, so it names the id too."""
        if not kind.strip():
            raise InvalidValue("kind", "must not be empty")
        return cls(
            kind=kind,
            recipient=normalise_email(recipient),
            subject=clean_subject(subject),
            cause_event_id=cause_event_id,
            org_id=org_id,
        )

    @property
    def finished(self) -> bool:
        """Sent or given up: a redelivered cause must not send again."""
        return self.status is not Status.QUEUED

    @property
    def next_attempt(self) -> int:
        return self.attempts + 1

    # Commands --------------------------------------------------------------------------------

    def record_sent(self, attempt: int, message_id: str) -> None:
        """The mail server accepted attempt ``attempt``."""
        self._check_attempt(attempt)
        self._sent(attempt=attempt, message_id=message_id)

    def record_failure(
        self,
        attempt: int,
        error: str,
        retry_at: datetime,
        max_attempts: int,
        permanent: bool = False,
    ) -> None:
        """Attempt ``attempt`` failed: retry at ``retry_at``, or give up after the last one.

        A permanent refusal (an address the server will never accept) gives up at once.
        """
        self._check_attempt(attempt)
        reason = _short(error)
        if permanent or attempt >= max_attempts:
            self._attempt_failed(attempt=attempt, error=reason, retry_at=None)
            self._gave_up(error=reason)
        else:
            self._attempt_failed(attempt=attempt, error=reason, retry_at=retry_at)

    def _check_attempt(self, attempt: int) -> None:
        if self.finished:
            raise RuleBroken(f"delivery {self.id} is already {self.status.value}")
        if attempt != self.next_attempt:
            raise RuleBroken(
                f"delivery {self.id} expects attempt {self.next_attempt}, not {attempt}"
            )

    # Events: they only set state -----------------------------------------------------------

    @event(Sent)
    def _sent(self, attempt: int, message_id: str) -> None:
        self.status = Status.SENT
        self.attempts = attempt
        self.message_id = message_id
        self.retry_at = None

    @event(AttemptFailed)
    def _attempt_failed(self, attempt: int, error: str, retry_at: datetime | None) -> None:
        self.attempts = attempt
        self.last_error = error
        self.retry_at = retry_at

    @event(GaveUp)
    def _gave_up(self, error: str) -> None:
        self.status = Status.GAVE_UP
        self.last_error = error
