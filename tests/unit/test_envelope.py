"""The envelope the relay publishes and the audit routes show."""

from __future__ import annotations

import orjson

from broker.envelope import decode, describe, encode, event_id
from broker.topics import ORGS, stream_of
from domains.organization import Organization
from tests.support.contract import ENVELOPE_FIELDS


def test_an_event_is_described_with_every_contract_field() -> None:
    org = Organization.create(name="Studio", actor="user-7")
    org.rename("Studio Two", actor="user-8")
    created, renamed = org.collect_events()
    fields = describe(renamed, ORGS)
    assert fields["type"] == "OrganizationRenamed"
    assert fields["stream"] == "orgs"
    assert fields["aggregate_id"] == fields["org_id"] == org.id
    assert fields["version"] == 2
    assert fields["actor"] == "user-8"
    assert fields["data"] == {"name": "Studio Two"}
    assert fields["id"] == event_id(org.id, 2) != event_id(org.id, 1)
    wire = orjson.loads(encode(fields))
    assert set(wire) == ENVELOPE_FIELDS | {"actor"}
    assert decode(encode(fields)).version == 2
    assert describe(created, ORGS)["data"] == {"name": "Studio"}


def test_events_find_their_stream_by_aggregate() -> None:
    [created] = Organization.create(name="S", actor="a").collect_events()
    assert stream_of(created) is ORGS
