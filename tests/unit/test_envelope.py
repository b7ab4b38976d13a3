"""The envelope the relay publishes and the audit routes show."""

from __future__ import annotations

from uuid import uuid4

import orjson

from broker.envelope import decode, describe, encode, event_id
from broker.topics import ORGS, USERS, stream_of
from domains.organization import Organization
from domains.user import User
from tests.support.contract import ENVELOPE_FIELDS


def test_an_event_is_described_with_every_contract_field() -> None:
    owner = uuid4()
    org = Organization.create(name="Studio", owner_id=owner)
    org.rename("Studio Two", actor_id=owner)
    created, _, renamed = org.collect_events()
    fields = describe(renamed, ORGS)
    assert fields["type"] == "OrganizationRenamed"
    assert fields["stream"] == "orgs"
    assert fields["aggregate_id"] == fields["org_id"] == org.id
    assert fields["version"] == 3
    assert fields["actor"] == str(owner)
    assert fields["data"] == {"name": "Studio Two"}
    assert fields["id"] == event_id(org.id, 3) != event_id(org.id, 1)
    wire = orjson.loads(encode(fields))
    assert set(wire) == ENVELOPE_FIELDS | {"actor"}
    assert decode(encode(fields)).version == 3
    assert describe(created, ORGS)["data"] == {"name": "Studio"}


def test_events_find_their_stream_by_aggregate() -> None:
    created, _ = Organization.create(name="S", owner_id=uuid4()).collect_events()
    assert stream_of(created) is ORGS


def test_secrets_never_leave_in_an_envelope() -> None:
    user = User.register("a@example.com", "Ann", password_hash="$argon2id$secret")
    user.sign_in(uuid4(), token_hash="abc123", method="password")
    for event in user.collect_events():
        data = describe(event, USERS)["data"]
        assert "password_hash" not in data and "token_hash" not in data
        assert "$argon2id$secret" not in str(data) and "abc123" not in str(data)
