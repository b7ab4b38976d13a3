"""The JSON envelope every event travels in, as the contract's Kafka section defines it.

``describe`` turns a recorded domain event into the envelope's fields. The relay, the audit
routes and the AsyncAPI document all go through it, so what an auditor reads over HTTP is what
an integrator reads on Kafka.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

import orjson
from eventsourcing.domain import AggregateEvent
from pydantic import BaseModel, ConfigDict, Field

from broker.topics import EventStream

SCHEMA_VERSION = 1
# Event ids are derived from (aggregate_id, version) so a republished event keeps its id.
EVENT_ID_NAMESPACE = UUID("6f1c3f0e-8a5b-4c1e-9b7d-2f4a9c0d5e11")
SECRET_FIELDS = frozenset({"password_hash", "token_hash", "credentials"})
_ENVELOPE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "actor"}
)


class Envelope(BaseModel):
    """An event as published on Kafka, keyed by ``aggregate_id``."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    id: UUID = Field(description="Unique per event; the same on every republish.")
    type: str = Field(description="The event type, e.g. OrganizationCreated.")
    stream: str = Field(description="The audit stream: albums, folders, users or orgs.")
    aggregate_id: UUID
    version: int = Field(ge=1, description="Orders one aggregate's events.")
    org_id: UUID | None = Field(description="The studio the aggregate belongs to.")
    occurred_at: datetime
    schema_version: int = Field(alias="schema", description="Version of this type's data.")
    actor: str | None = Field(default=None, description="Who caused the event (extension).")
    data: dict[str, Any]


def event_id(aggregate_id: UUID, version: int) -> UUID:
    return uuid5(EVENT_ID_NAMESPACE, f"{aggregate_id}:{version}")


def event_type(event: AggregateEvent) -> str:
    """``Organization.Renamed`` becomes ``OrganizationRenamed``."""
    return type(event).__qualname__.replace(".", "")


def event_data(event: AggregateEvent) -> dict[str, Any]:
    """The event's own fields; secrets (even hashed) never leave the event store."""
    return {
        k: v for k, v in vars(event).items() if k not in _ENVELOPE_FIELDS and k not in SECRET_FIELDS
    }


def describe(event: AggregateEvent, stream: EventStream) -> dict[str, Any]:
    """The envelope's fields for one recorded event (values still Python objects)."""
    return {
        "id": event_id(event.originator_id, event.originator_version),
        "type": event_type(event),
        "stream": stream.name,
        "aggregate_id": event.originator_id,
        "version": event.originator_version,
        "org_id": stream.org_id_of(event),
        "occurred_at": event.timestamp,
        "schema": SCHEMA_VERSION,
        "actor": getattr(event, "actor", None),
        "data": event_data(event),
    }


def encode(fields: dict[str, Any]) -> bytes:
    return orjson.dumps(fields)


def decode(payload: bytes) -> Envelope:
    return Envelope.model_validate_json(payload)
