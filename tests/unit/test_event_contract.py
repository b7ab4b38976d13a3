"""The Kafka contract generated from the event classes: AsyncAPI messages, headers, versions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import orjson
from eventsourcing.domain import Aggregate, event
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from broker.asyncapi import asyncapi_document, data_schemas, event_messages
from broker.envelope import SECRET_FIELDS, describe, encode, headers
from broker.parking import Message, ParkingLot
from broker.topics import (
    INTEGRATION_EVENTS,
    INTEGRATION_TOPICS,
    STREAMS,
    EventStream,
    event_classes,
)
from domains.album import Album

DOCUMENT_URI = "urn:photoflow:asyncapi"
CLOUDEVENTS = {"ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "content-type"}


class Kite(Aggregate):
    """A made-up aggregate: the generation must work for whatever events exist."""

    class Flown(Aggregate.Event):
        """The kite flew."""

        height: int | None
        at: datetime
        pilot: UUID
        password_hash: str
        actor: str

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 had no time: it is the epoch."""
            state["at"] = datetime(1970, 1, 1, tzinfo=UTC)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Version 2 had no pilot."""
            state["pilot"] = UUID(int=0)

    @event(Flown)
    def fly(
        self, height: int | None, at: datetime, pilot: UUID, password_hash: str, actor: str
    ) -> None:
        self.height = height


KITES = EventStream("kites", "test.kite", Kite, lambda e: None, "Kites.")


def validator(document: dict[str, Any], pointer: str) -> Draft7Validator:
    """A validator for one schema of the document, resolving its references in the document."""
    registry: Registry[Any] = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT7)
    )
    return Draft7Validator(
        {"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=registry, format_checker=FormatChecker()
    )


def document() -> dict[str, Any]:
    return asyncapi_document("127.0.0.1:9092", "0.1.0", "pre.")


def test_every_event_class_is_a_message_on_its_topic_and_listed_in_its_channel() -> None:
    doc = document()
    for stream in STREAMS.values():
        channel = doc["channels"][stream.topic]
        assert channel["address"] == "pre." + stream.topic
        expected = [c.__qualname__.replace(".", "") for c in event_classes(stream.aggregate)]
        assert expected and channel["x-event-types"] == expected
        assert list(channel["messages"]) == expected
        assert doc["components"]["schemas"][f"{stream.topic}.types"]["enum"] == expected
    assert "AlbumSelectionSubmitted" in doc["channels"]["photoflow.album"]["x-event-types"]
    assert "UserCreated" not in doc["components"]["messages"], "a created class never recorded"
    for topic in INTEGRATION_TOPICS:
        assert doc["channels"][topic]["x-event-types"]
        assert doc["channels"][topic + ".dlt"]["address"] == f"pre.{topic}.dlt"


def test_every_integration_event_names_an_event_that_exists() -> None:
    names = {m.name for m in event_messages()}
    for source, (topic, renamed) in INTEGRATION_EVENTS.items():
        assert source in names, f"{source} is published on {topic} but no event class has it"
        assert renamed in names


def test_each_example_is_valid_against_its_own_payload_and_header_schemas() -> None:
    doc = document()
    for name, message in doc["components"]["messages"].items():
        for sample in message.get("examples", []):
            payload = validator(doc, f"/components/messages/{name}/payload")
            assert not list(payload.iter_errors(sample["payload"])), name
            assert not list(
                validator(doc, f"/components/messages/{name}/headers").iter_errors(
                    sample["headers"]
                )
            ), name
            assert sample["headers"]["ce_id"] == sample["payload"]["id"]
            assert sample["payload"]["type"] == name == sample["headers"]["type"]


def test_a_payload_schema_refuses_another_type_or_a_field_it_does_not_have() -> None:
    doc = document()
    sample = doc["components"]["messages"]["OrganizationRenamed"]["examples"][0]["payload"]
    schema = validator(doc, "/components/messages/OrganizationRenamed/payload")
    assert schema.is_valid(sample)
    assert not schema.is_valid({**sample, "type": "OrganizationCreated"})
    assert not schema.is_valid({**sample, "data": {**sample["data"], "nickname": "x"}})
    assert not schema.is_valid({**sample, "data": {}})


def test_no_secret_field_is_documented_or_in_an_example() -> None:
    doc = document()
    text = orjson.dumps(doc["components"]["messages"]).decode()
    for secret in SECRET_FIELDS:
        assert f'"{secret}"' not in text


def test_data_is_typed_from_the_annotations_and_versioned_by_class_version() -> None:
    schemas, _ = data_schemas([Kite.Flown])
    data = schemas[Kite.Flown]
    assert data["required"] == ["height", "at", "pilot"]
    assert data["properties"]["at"] == {"type": "string", "format": "date-time"}
    assert data["properties"]["pilot"] == {"type": "string", "format": "uuid"}
    assert data["properties"]["height"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}


def test_the_envelope_and_headers_carry_the_class_version() -> None:
    kite = Kite()
    kite.fly(
        height=3, at=datetime(2026, 1, 2, tzinfo=UTC), pilot=uuid4(), password_hash="s", actor="a"
    )
    flown = kite.collect_events()[-1]
    fields = describe(flown, KITES)
    assert fields["schema"] == 3 and fields["type"] == "KiteFlown"
    assert "password_hash" not in fields["data"]
    sent = dict(headers(fields))
    assert sent["ce_type"] == b"dev.photoflow.KiteFlown.v3"
    assert sent["ce_source"] == f"/photoflow/kites/{kite.id}".encode()
    assert sent["ce_time"] == flown.timestamp.isoformat().encode()
    assert sent["ce_id"] == sent["id"] == str(fields["id"]).encode()
    assert set(sent) == {"type", "id"} | CLOUDEVENTS
    # the same headers come back from the encoded envelope, as a dead-letter copy needs them
    assert headers(orjson.loads(encode(fields))) == headers(fields)


def test_a_versioned_album_event_documents_its_version_and_its_changes() -> None:
    doc = document()
    message = doc["components"]["messages"]["AlbumShared"]
    version = Album.Shared.class_version
    assert message["x-schema-version"] == version
    assert message["payload"]["properties"]["schema"]["const"] == version
    assert message["headers"]["properties"]["ce_type"]["const"].endswith(f".v{version}")
    assert "v1 -> v2: Version 1 had no nonce" in message["description"]


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]] = []

    async def send_and_wait(
        self, topic: str, value: bytes | None, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        self.sent.append((topic, value, key, headers))


class FakeConnection:
    async def execute(self, statement: str, *arguments: object) -> None:
        pass


async def test_a_dead_letter_copy_keeps_the_original_headers_and_adds_its_own() -> None:
    [created] = Kite().collect_events()
    fields = describe(created, KITES)
    producer = FakeProducer()
    lot = ParkingLot("unit", pool=None, producer=producer)  # type: ignore[arg-type]
    value = encode(fields)
    await lot.park(
        Message("pre.test.kite", 2, 9, b"k", value), "ValueError: no", 3, FakeConnection()
    )  # type: ignore[arg-type]
    [(topic, sent_value, key, sent)] = producer.sent
    assert (topic, sent_value, key) == ("pre.test.kite.dlt", value, b"k")
    assert sent[: len(headers(fields))] == headers(fields)
    assert dict(sent)["dlt_offset"] == b"9" and dict(sent)["dlt_worker"] == b"unit"
    kept = Message("t", 0, 1, None, b"not json", headers=(("trace", b"1"),))
    await lot.park(kept, "ValueError: no", 3, FakeConnection())  # type: ignore[arg-type]
    assert producer.sent[-1][3][0] == ("trace", b"1")
    await lot.park(Message("t", 0, 2, None, b"not json"), "x", 3, FakeConnection())  # type: ignore[arg-type]
    assert [k for k, _ in producer.sent[-1][3]] == [
        "dlt_worker",
        "dlt_error",
        "dlt_topic",
        "dlt_partition",
        "dlt_offset",
    ]
