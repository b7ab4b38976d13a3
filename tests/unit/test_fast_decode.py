"""The read side's fast decoder gives the very fields pydantic gives, or pydantic's error."""

from __future__ import annotations

from uuid import uuid4

import msgspec
import orjson
import pytest
from pydantic import ValidationError

from broker.envelope import decode, decode_fast, describe, encode, replaced
from broker.topics import ORGS
from domains.organization import Organization


def _payloads() -> list[bytes]:
    owner = uuid4()
    org = Organization.create(name="Studio", owner_id=owner)
    org.rename("Studio Two", actor_id=owner)
    return [encode(describe(event, ORGS)) for event in org.collect_events()]


def test_fast_decode_equals_pydantic() -> None:
    for payload in _payloads():
        fast, slow = decode_fast(payload), decode(payload)
        assert msgspec.structs.asdict(fast) == dict(slow)
        for event in (fast, slow):
            renamed = replaced(event, actor="someone")
            assert renamed.actor == "someone" and event.actor != "someone"
            assert renamed.data == event.data and type(renamed) is type(event)


def test_what_msgspec_refuses_goes_through_pydantic() -> None:
    wire = orjson.loads(_payloads()[0])
    wire["version"] = 1.0  # pydantic's lax mode takes a whole float; msgspec does not
    wire.pop("actor")
    envelope = decode_fast(orjson.dumps(wire))
    assert envelope.version == 1 and envelope.actor is None
    assert type(envelope) is type(decode_fast(_payloads()[0]))
    wire["version"] = 0
    with pytest.raises(ValidationError):
        decode_fast(orjson.dumps(wire))
    with pytest.raises(ValidationError):
        decode_fast(b"not json")
