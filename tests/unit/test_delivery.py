"""The Delivery aggregate: one per event and recipient, attempted until sent or given up."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate

from commands.sender import RetryPolicy
from domains.delivery import Delivery, Status
from domains.errors import InvalidValue, RuleBroken

LATER = datetime(2030, 1, 1, tzinfo=UTC)


def queued(cause: UUID | None = None, recipient: str = "Ann@Example.com") -> Delivery:
    return Delivery.queue(
        kind="invitation",
        recipient=recipient,
        subject="Your invitation to Atelier",
        cause_event_id=cause or uuid4(),
        org_id=uuid4(),
    )


def replayed(delivery: Delivery) -> Delivery:
    """The aggregate rebuilt from its events alone, as the event store would."""
    rebuilt: Aggregate | None = None
    for recorded in delivery.collect_events():
        rebuilt = recorded.mutate(rebuilt)
    assert isinstance(rebuilt, Delivery)
    return rebuilt


def test_the_id_derives_from_the_cause_and_the_normalised_recipient() -> None:
    cause = uuid4()
    first, again = queued(cause), queued(cause, recipient=" ann@example.COM ")
    assert first.id == again.id == Delivery.create_id(cause, "ann@example.com")
    assert queued(cause, recipient="bob@example.com").id != first.id
    assert queued(uuid4()).id != first.id


def test_queueing_records_who_and_what_about_but_no_body() -> None:
    cause = uuid4()
    delivery = queued(cause)
    [event] = delivery.collect_events()
    assert isinstance(event, Delivery.Queued)
    assert (event.kind, event.recipient, event.cause_event_id) == (
        "invitation",
        "ann@example.com",
        cause,
    )
    assert set(vars(event)) - {"originator_id", "originator_version", "timestamp"} == {
        "originator_topic",
        "kind",
        "recipient",
        "subject",
        "cause_event_id",
        "org_id",
    }
    assert (delivery.status, delivery.next_attempt, delivery.finished) == (Status.QUEUED, 1, False)


@pytest.mark.parametrize(
    ("field", "recipient", "subject"),
    [
        ("email", "not an address", "Hello"),
        ("subject", "ann@example.com", "   "),
        ("subject", "ann@example.com", "x" * 201),
    ],
)
def test_a_bad_recipient_or_subject_is_refused(field: str, recipient: str, subject: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        Delivery.queue("invitation", recipient, subject, uuid4(), None)
    assert refused.value.field == field


def test_a_subject_is_one_line_so_it_cannot_inject_headers() -> None:
    delivery = Delivery.queue("invitation", "a@b.co", "Hi\r\nBcc: x@y.z", uuid4(), None)
    assert delivery.subject == "Hi Bcc: x@y.z"


def test_sent_finishes_the_delivery_and_a_second_send_is_refused() -> None:
    delivery = queued()
    delivery.record_sent(1, "<id@photoflow.local>")
    assert (delivery.status, delivery.message_id, delivery.finished) == (
        Status.SENT,
        "<id@photoflow.local>",
        True,
    )
    with pytest.raises(RuleBroken):
        delivery.record_sent(2, "<id@photoflow.local>")
    with pytest.raises(RuleBroken):
        delivery.record_failure(2, "late", LATER, max_attempts=5)
    assert [type(e).__name__ for e in delivery.collect_events()] == ["Queued", "Sent"]


def test_a_failed_attempt_schedules_a_retry_and_the_next_attempt_can_succeed() -> None:
    delivery = queued()
    delivery.record_failure(1, "451 try later", LATER, max_attempts=3)
    assert (delivery.status, delivery.next_attempt, delivery.retry_at) == (Status.QUEUED, 2, LATER)
    delivery.record_sent(2, "<m>")
    rebuilt = replayed(delivery)
    assert (rebuilt.status, rebuilt.attempts, rebuilt.retry_at) == (Status.SENT, 2, None)
    assert rebuilt.last_error == "451 try later"


def test_attempts_are_recorded_in_order_only() -> None:
    delivery = queued()
    with pytest.raises(RuleBroken):
        delivery.record_sent(2, "<m>")
    delivery.record_failure(1, "busy", LATER, max_attempts=3)
    with pytest.raises(RuleBroken):
        delivery.record_failure(1, "busy", LATER, max_attempts=3)


def test_the_last_allowed_failure_gives_up() -> None:
    delivery = queued()
    for attempt in (1, 2):
        delivery.record_failure(attempt, "busy", LATER, max_attempts=3)
    delivery.record_failure(3, "still busy", LATER, max_attempts=3)
    events = delivery.collect_events()
    assert [type(e).__name__ for e in events] == [
        "Queued",
        "AttemptFailed",
        "AttemptFailed",
        "AttemptFailed",
        "GaveUp",
    ]
    last_failure = events[3]
    assert isinstance(last_failure, Delivery.AttemptFailed)
    assert last_failure.retry_at is None
    assert (delivery.status, delivery.finished, delivery.last_error) == (
        Status.GAVE_UP,
        True,
        "still busy",
    )


def test_a_permanent_refusal_gives_up_at_once_with_a_short_error() -> None:
    delivery = queued()
    delivery.record_failure(1, "550 no such user\n" + "x" * 2000, LATER, 5, permanent=True)
    assert delivery.status is Status.GAVE_UP
    assert delivery.last_error is not None
    assert len(delivery.last_error) == 500
    assert "\n" not in delivery.last_error


def test_the_retry_delay_doubles_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=1.0, max_delay=30.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (6, 30.0), (9, 30.0)]:
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1, "no jitter"
