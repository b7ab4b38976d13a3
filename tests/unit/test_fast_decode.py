"""The read side's fast decoder gives the very envelope pydantic gives, or pydantic's error."""

from __future__ import annotations

from uuid import uuid4

import orjson
import pytest
from pydantic import ValidationError

from broker.envelope import decode, decode_fast, describe, encode
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
        assert fast == slow
        assert fast.model_dump(mode="json") == slow.model_dump(mode="json")
        assert fast.model_fields_set == slow.model_fields_set
        renamed = fast.model_copy(update={"actor": "someone"})
        assert renamed.actor == "someone" and fast.actor != "someone"


def test_what_msgspec_refuses_goes_through_pydantic() -> None:
    wire = orjson.loads(_payloads()[0])
    wire["version"] = 1.0  # pydantic's lax mode takes a whole float; msgspec does not
    wire.pop("actor")
    envelope = decode_fast(orjson.dumps(wire))
    assert envelope.version == 1 and envelope.actor is None
    wire["version"] = 0
    with pytest.raises(ValidationError):
        decode_fast(orjson.dumps(wire))
    with pytest.raises(ValidationError):
        decode_fast(b"not json")
