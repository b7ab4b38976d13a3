"""The JSON envelope every event travels in, as the contract's Kafka section defines it.

``describe`` turns a recorded domain event into the envelope's fields, and ``headers`` gives the
Kafka headers that travel with it. The relay, the audit routes and the AsyncAPI document all go
through them, so what an auditor reads over HTTP is what an integrator reads on Kafka, and the
document's examples are what the relay really sends.

Schema versions: an event type's ``schema`` is its class's ``class_version`` (1 when the class
declares none). When a type's fields change, its class gets the next ``class_version`` and an
``upcast_vN_vM`` static method; the event store upcasts older stored events on read, so the
relay, the audit routes and replays only ever see today's shape, and every message says which
shape its ``data`` has, in ``schema`` and at the end of the CloudEvents ``ce_type``.

The CloudEvents Kafka binding (binary mode): the body stays our envelope and the event's
attributes travel as ``ce_*`` headers. ``ce_type`` is ``dev.photoflow.<type>.v<schema>``
(reverse-DNS, as CloudEvents recommends, with the version of ``data``, as its primer suggests),
``ce_source`` is ``/photoflow/<stream>/<aggregate_id>`` and ``ce_time`` is ``occurred_at``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID, uuid5

import msgspec
import orjson
from eventsourcing.domain import AggregateEvent
from pydantic import BaseModel, ConfigDict, Field

from broker.topics import EventStream

# Event ids are derived from (aggregate_id, version) so a republished event keeps its id.
EVENT_ID_NAMESPACE = UUID("6f1c3f0e-8a5b-4c1e-9b7d-2f4a9c0d5e11")
SECRET_FIELDS = frozenset({"password_hash", "token_hash", "credentials"})
_ENVELOPE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "actor"}
)
NOT_DATA = _ENVELOPE_FIELDS | SECRET_FIELDS
"""An event's fields that never appear in ``data``: the envelope carries them, or nobody does."""

CE_SPECVERSION = "1.0"
CE_TYPE_PREFIX = "dev.photoflow."
CONTENT_TYPE = "application/json"


class Envelope(BaseModel):
    """An event as published on Kafka, keyed by ``aggregate_id``."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    id: UUID = Field(description="Unique per event; the same on every republish.")
    type: str = Field(description="The event type, e.g. OrganizationCreated.")
    stream: str = Field(
        description="The stream: albums, folders, users, orgs, providers or deliveries."
    )
    aggregate_id: UUID
    version: int = Field(ge=1, description="Orders one aggregate's events.")
    org_id: UUID | None = Field(description="The studio the aggregate belongs to.")
    occurred_at: datetime
    schema_version: int = Field(
        alias="schema", description="The version of this type's data (its class_version)."
    )
    actor: str | None = Field(default=None, description="Who caused the event (extension).")
    data: dict[str, Any]


def event_id(aggregate_id: UUID, version: int) -> UUID:
    return uuid5(EVENT_ID_NAMESPACE, f"{aggregate_id}:{version}")


def type_name(cls: type[AggregateEvent]) -> str:
    """``Organization.Renamed`` becomes ``OrganizationRenamed``."""
    return cls.__qualname__.replace(".", "")


def schema_version(cls: type[AggregateEvent]) -> int:
    """The version of this type's ``data``: the class's ``class_version``, 1 when it has none."""
    return int(getattr(cls, "class_version", 1) or 1)


@functools.cache
def _kind(cls: type[AggregateEvent]) -> tuple[str, int]:
    # Once per class: the relay describes thousands of events a second.
    return type_name(cls), schema_version(cls)


def event_type(event: AggregateEvent) -> str:
    return _kind(type(event))[0]


def event_data(event: AggregateEvent) -> dict[str, Any]:
    """The event's own fields; secrets (even hashed) never leave the event store."""
    return {k: v for k, v in vars(event).items() if k not in NOT_DATA}


def describe(event: AggregateEvent, stream: EventStream) -> dict[str, Any]:
    """The envelope's fields for one recorded event (values still Python objects)."""
    name, version = _kind(type(event))
    return {
        "id": event_id(event.originator_id, event.originator_version),
        "type": name,
        "stream": stream.name,
        "aggregate_id": event.originator_id,
        "version": event.originator_version,
        "org_id": stream.org_id_of(event),
        "occurred_at": event.timestamp,
        "schema": version,
        "actor": getattr(event, "actor", None),
        "data": event_data(event),
    }


def integration_copy(fields: dict[str, Any], name: str) -> dict[str, Any]:
    """The same event under its integration name, with an id of its own (``INTEGRATION_EVENTS``)."""
    return {**fields, "type": name, "id": uuid5(fields["id"], name)}


def cloudevents_type(name: str, schema: int) -> str:
    return f"{CE_TYPE_PREFIX}{name}.v{schema}"


def cloudevents_source(stream: str, aggregate_id: object) -> str:
    return f"/photoflow/{stream}/{aggregate_id}"


@functools.lru_cache(maxsize=4096)
def _constant_headers(name: str, schema: int) -> tuple[tuple[str, bytes], ...]:
    """The headers every message of one type and version shares, encoded once."""
    return (
        ("type", name.encode()),
        ("ce_specversion", CE_SPECVERSION.encode()),
        ("ce_type", cloudevents_type(name, schema).encode()),
        ("content-type", CONTENT_TYPE.encode()),
    )


def headers(envelope: Mapping[str, Any], key: bytes | None = None) -> list[tuple[str, bytes]]:
    """The Kafka headers of one envelope: ``type`` and ``id``, and the CloudEvents binding's.

    Takes the fields ``describe`` gives or a decoded envelope (ids and times as strings), so a
    dead-letter copy can carry the same headers as the message it copies. The relay passes the
    message's key (the aggregate id, already encoded) to spare turning the id into text twice.
    """
    ident = str(envelope["id"]).encode()
    occurred = envelope["occurred_at"]
    at = occurred if isinstance(occurred, str) else occurred.isoformat()
    aggregate = key if key is not None else str(envelope["aggregate_id"]).encode()
    return [
        *_constant_headers(envelope["type"], int(envelope["schema"])),
        ("id", ident),
        ("ce_id", ident),
        ("ce_source", _source_prefix(envelope["stream"]) + aggregate),
        ("ce_time", at.encode()),
    ]


@functools.lru_cache(maxsize=64)
def _source_prefix(stream: str) -> bytes:
    return cloudevents_source(stream, "").encode()


def encode(fields: dict[str, Any]) -> bytes:
    return orjson.dumps(fields)


def decode(payload: bytes) -> Envelope:
    return Envelope.model_validate_json(payload)


class FastEnvelope(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """The envelope as ``decode_fast`` reads it: ``Envelope``'s fields, typed, named and
    ordered as there, checked and built in C. The read side's hot path: no pydantic model is
    made for each of the thousands of events a second a projection or a rebuild reads."""

    id: UUID
    type: str
    stream: str
    aggregate_id: UUID
    version: Annotated[int, msgspec.Meta(ge=1)]
    org_id: UUID | None
    occurred_at: datetime
    schema_version: int = msgspec.field(name="schema")
    actor: str | None = None
    data: dict[str, Any]


Event = Envelope | FastEnvelope
"""An event as consumers read it, whichever decoder made it: ``decode`` gives an ``Envelope``
(pydantic, the contract's model), ``decode_fast`` a ``FastEnvelope``. Both have the same
fields; projections take either, and change one only through ``replaced``."""

_FAST = msgspec.json.Decoder(FastEnvelope)


def decode_fast(payload: bytes) -> FastEnvelope:
    """The fields ``decode`` gives, in about a fifth of the time.

    Anything msgspec refuses goes through ``decode``, so what is accepted, and the error of
    what is not, are pydantic's.
    """
    try:
        return _FAST.decode(payload)
    except msgspec.MsgspecError:
        return FastEnvelope(**dict(decode(payload)))


def replaced(event: Event, **changes: Any) -> Event:
    """A copy of the event with some fields changed (events are frozen)."""
    if isinstance(event, FastEnvelope):
        return msgspec.structs.replace(event, **changes)
    return event.model_copy(update=changes)
