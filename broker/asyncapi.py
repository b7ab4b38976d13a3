"""The AsyncAPI 3.0 document of our topics, generated from the event classes by reflection.

Written as AsyncAPI JSON directly rather than through FastStream: FastStream's generator gives
each publisher one message with one payload type and no header schema, so a topic carrying
twenty event types could only be documented as one generic envelope with a free-form ``data``
(what this document used to be), with no list of the types, no examples and invented headers.
Everything below is derived from the code the relay runs, so a new or renamed event class is
documented the moment it exists, and nothing is documented that is not sent:

- the channels are the topics of ``broker.topics`` (every stream's topic, the integration
  topics) and each one's dead-letter twin ``<topic>.dlt``;
- a channel's messages are the event classes its aggregate records (``event_classes``), or the
  integration events renamed onto it (``INTEGRATION_EVENTS``); ``x-event-types`` lists them;
- a message's payload is the ``Envelope`` schema with ``type``, ``stream`` and ``schema`` fixed
  and ``data`` typed from the event class's annotated fields through pydantic's ``TypeAdapter``,
  less ``NOT_DATA`` (envelope fields and secrets, which never leave the store);
- its headers are what ``broker.envelope.headers`` sends; its example is an event of that class
  built from the schema, described, encoded and given headers exactly as the relay does;
- its schema version is the class's ``class_version`` (``x-schema-version`` and the payload's
  ``schema``), with each ``upcast_vN_vM`` docstring telling what changed since older messages;
- the fields that carry an album client's or guest's personal data are marked sealed
  (``x-sealed-fields``, ``x-sealed`` on each, ``domains.personal_data``), and the document's
  ``SealedText`` schema says how a consumer holding the key opens them.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

import orjson
from eventsourcing.domain import AggregateCreated, AggregateEvent
from eventsourcing.utils import get_topic
from pydantic import TypeAdapter

from broker.envelope import (
    CE_SPECVERSION,
    CE_TYPE_PREFIX,
    CONTENT_TYPE,
    NOT_DATA,
    Envelope,
    cloudevents_type,
    describe,
    encode,
    headers,
    integration_copy,
    schema_version,
    type_name,
)
from broker.topics import (
    INTEGRATION_EVENTS,
    INTEGRATION_TOPICS,
    STREAMS,
    EventStream,
    dead_letter_topic,
    event_classes,
)
from domains.personal_data import GUEST_ACTED, GUEST_PREFIX, PERSONAL_FIELDS, ClientKey

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.4.0"
SCHEMA_REF = "#/components/schemas/{model}"
KEEP_FOREVER = {"cleanup.policy": ["delete"], "retention.ms": -1, "retention.bytes": -1}

EXAMPLE_NAMESPACE = UUID("3b0d9b8e-7f4a-4d55-8d0c-5a4f0c2e9e10")
EXAMPLE_AGGREGATE = uuid5(EXAMPLE_NAMESPACE, "aggregate")
EXAMPLE_ORG = uuid5(EXAMPLE_NAMESPACE, "org")
EXAMPLE_ACTOR = uuid5(EXAMPLE_NAMESPACE, "actor")
EXAMPLE_TIME = datetime(2026, 11, 25, 9, 30, 15, 250000, tzinfo=UTC)

DESCRIPTION = (
    "Every event PhotoFlow records, published by the relay as a JSON envelope keyed by its "
    "aggregate id. Subscribe with any Kafka client, in a consumer group of your own, from the "
    "beginning: topics keep every event. Delivery is at least once: drop duplicates by `id` "
    "(or by `(aggregate_id, version)`), which also orders one aggregate's events (one key, one "
    "partition). `data` is typed per event type; its version is `schema` (also the `.vN` end "
    "of `ce_type`): older messages of a type may carry a lower one, as each message's "
    "description says. Every message also carries the CloudEvents Kafka binding's headers "
    "(binary mode: the body is the envelope). The README's 'Subscribing to events' is a guide. "
    "Personal data of an album's client and guests travels only sealed (each message lists "
    "its `x-sealed-fields`; components/schemas/SealedText says how to open them)."
)
SEALED = (
    "Personal data of an album's client and guests (the client's name and email, guests' "
    "names, comments, notes) is sealed: encrypted with AES-256-GCM under a 32-byte data key "
    "of that album's client. A sealed value is the text `pd1:` followed by base64url (no "
    "padding) of nonce (12 bytes) || ciphertext || tag (16 bytes), with no associated data: to "
    "read it, strip `pd1:`, decode, and AES-GCM-decrypt the rest with the first 12 bytes as "
    "nonce; the plaintext is UTF-8. A guest acting through the share link is named "
    "`client:<sealed name>` (in `actor`, and in a comment's `author`). Sealing is "
    "deterministic (the nonce is an HMAC of the text), so one guest's sealed name is the same "
    "in every event of the album: use it as that guest's id. The keys stay inside the "
    "platform (table photoflow.client_keys); they are not published. When the client is "
    "forgotten (AlbumClientForgotten) the key is destroyed: from then on nobody can read those "
    "values; show them as forgotten. Events recorded before sealing existed (the lower schema "
    "versions each message names) carry these fields in plain text, and stay so."
)
EXAMPLE_KEY = ClientKey(bytes(range(32)))
"""The key the examples are sealed with (hex 000102...1f), so a consumer can test its code."""
DEAD_LETTERS = (
    "Messages of {topic} that a consumer parked because it could never apply them: the "
    "original key, bytes (usually one of {topic}'s envelopes, but possibly not even JSON) and "
    "headers, with dlt_worker (the consumer), dlt_error, dlt_topic, dlt_partition and "
    "dlt_offset added. `python -m infra parked list|retry|drop` shows and replays them."
)
DLT_HEADERS = {
    "dlt_worker": "The consumer that parked the message.",
    "dlt_error": "Why it could not apply it (at most 1,000 bytes).",
    "dlt_topic": "The topic the message was read from (with any topic prefix).",
    "dlt_partition": "Its partition there.",
    "dlt_offset": "Its offset there.",
}


@dataclass(frozen=True)
class EventMessage:
    """One message of the document: one event type, as published on one topic."""

    name: str
    topic: str
    stream: EventStream
    event_class: type[AggregateEvent]
    note: str


def event_messages() -> list[EventMessage]:
    """Every event type on every topic: each stream's events, then the integration copies."""
    messages: list[EventMessage] = []
    for stream in STREAMS.values():
        for cls in event_classes(stream.aggregate):
            messages.append(EventMessage(type_name(cls), stream.topic, stream, cls, ""))
    by_name = {m.name: m for m in messages}
    for source, (topic, renamed) in INTEGRATION_EVENTS.items():
        original = by_name.get(source)
        if original is not None:  # tests/unit/test_event_contract.py keeps the table up to date
            note = f"The event {source} of {original.topic}, published here under this name."
            messages.append(
                EventMessage(renamed, topic, original.stream, original.event_class, note)
            )
    return messages


def data_fields(cls: type[AggregateEvent]) -> dict[str, Any]:
    """The annotated fields that make up ``data``, with their resolved types (Any if unknown)."""
    return {name: hint for name, hint in _field_types(cls).items() if name not in NOT_DATA}


def _field_types(cls: type[AggregateEvent]) -> dict[str, Any]:
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError):  # an annotation naming something its module cannot see
        hints = {}
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls)}


def data_schemas(
    classes: list[type[AggregateEvent]],
) -> tuple[dict[type[AggregateEvent], dict[str, Any]], dict[str, Any]]:
    """The JSON schema of each class's ``data``, and the shared definitions they refer to.

    One pydantic call for every field of every class, so that a type used by several events
    (an enum, a model) is defined once under ``components/schemas``.
    """
    inputs = [
        ((cls, name), "serialization", TypeAdapter(hint))
        for cls in classes
        for name, hint in data_fields(cls).items()
    ]
    fields, definitions = TypeAdapter.json_schemas(inputs, ref_template=SCHEMA_REF)  # type: ignore[arg-type]
    schemas = {
        cls: {
            "type": "object",
            "properties": {
                name: fields[((cls, name), "serialization")] for name in data_fields(cls)
            },
            "required": list(data_fields(cls)),
            "additionalProperties": False,
        }
        for cls in classes
    }
    return schemas, dict(definitions.get("$defs", {}))


def payload_schema(
    message: EventMessage, data: dict[str, Any], envelope: dict[str, Any]
) -> dict[str, Any]:
    """The envelope of this one type: ``type``, ``stream`` and ``schema`` fixed, ``data`` typed."""
    properties = dict(envelope["properties"])
    properties["type"] = {**properties["type"], "const": message.name}
    properties["stream"] = {**properties["stream"], "const": message.stream.name}
    properties["schema"] = {**properties["schema"], "const": schema_version(message.event_class)}
    properties["data"] = {
        **sealed_data(message.name, data),
        "description": f"The fields of {message.name}.",
    }
    if message.name in GUEST_ACTED:
        properties["actor"] = {
            **properties["actor"],
            "description": "client:<sealed guest name> (see SealedText): the guest who acted.",
            "x-sealed": True,
        }
    return {
        "type": "object",
        "title": message.name,
        "properties": properties,
        "required": list(envelope["required"]),
    }


def sealed_fields(name: str) -> list[str]:
    """The payload's fields that carry personal data only sealed, as dotted paths."""
    fields = [f"data.{path}" for path in PERSONAL_FIELDS.get(name, {})]
    return fields + (["actor"] if name in GUEST_ACTED else [])


def sealed_data(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data``'s schema with each sealed field marked and described."""
    what = {
        "text": "sealed text",
        "guest": "the guest's sealed name (its id in the album)",
        "actor": "client:<sealed guest name>",
    }
    labels: dict[str, list[str]] = {}
    for path, kind in PERSONAL_FIELDS.get(name, {}).items():
        field, _, inner = path.partition(".")
        labels.setdefault(field, []).append(f"{inner}: {what[kind]}" if inner else what[kind])
    properties = dict(data.get("properties", {}))
    for field, texts in labels.items():
        if field in properties:
            properties[field] = {
                **properties[field],
                "description": f"Sealed ({'; '.join(texts)}): see SealedText.",
                "x-sealed": True,
            }
    return {**data, "properties": properties}


def headers_schema(message: EventMessage) -> dict[str, Any]:
    """The Kafka headers every message of this type carries (all of them, always)."""
    uuid = {"type": "string", "format": "uuid"}
    version = schema_version(message.event_class)
    properties = {
        "type": {"type": "string", "const": message.name, "description": "The envelope's type."},
        "id": {**uuid, "description": "The envelope's id."},
        "ce_specversion": {"type": "string", "const": CE_SPECVERSION},
        "ce_id": {**uuid, "description": "The envelope's id."},
        "ce_type": {
            "type": "string",
            "const": cloudevents_type(message.name, version),
            "description": f"{CE_TYPE_PREFIX}<type>.v<schema>: the type and its data's version.",
        },
        "ce_source": {
            "type": "string",
            "pattern": f"^/photoflow/{message.stream.name}/[0-9a-f-]{{36}}$",
            "description": "/photoflow/<stream>/<aggregate_id>",
        },
        "ce_time": {
            "type": "string",
            "format": "date-time",
            "description": "The envelope's occurred_at (RFC 3339).",
        },
        "content-type": {"type": "string", "const": CONTENT_TYPE},
    }
    return {"type": "object", "properties": properties, "required": list(properties)}


def example(message: EventMessage, data: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A message as the relay would send it, from an event of this class built from its schema."""
    cls = message.event_class
    special: dict[str, Any] = {
        "originator_id": EXAMPLE_AGGREGATE,
        "originator_version": 1 if issubclass(cls, AggregateCreated) else 4,
        "timestamp": EXAMPLE_TIME,
        "originator_topic": get_topic(message.stream.aggregate),
        "org_id": EXAMPLE_ORG,
        "actor": str(EXAMPLE_ACTOR),
    }
    values: dict[str, Any] = {}
    for name, hint in _field_types(cls).items():
        if name in special:
            values[name] = special[name]
            continue
        adapter: TypeAdapter[Any] = TypeAdapter(hint)
        schema = data["properties"][name] if name in data["properties"] else adapter.json_schema()
        values[name] = adapter.validate_python(_sample(schema, name, defs))
    fields = describe(cls(**values), message.stream)
    if type_name(cls) in GUEST_ACTED:
        fields["actor"] = GUEST_PREFIX + EXAMPLE_KEY.seal("example guest")
    for path, kind in PERSONAL_FIELDS.get(type_name(cls), {}).items():
        head, _, leaf = path.rpartition(".")
        holder = fields["data"][head] if head else fields["data"]
        plain = "example guest" if kind != "text" else str(holder.get(leaf))
        sealed = EXAMPLE_KEY.seal(plain)
        holder[leaf] = GUEST_PREFIX + sealed if kind == "actor" else sealed
    if fields["type"] != message.name:
        fields = integration_copy(fields, message.name)
    return {
        "name": f"{message.name}Example",
        "headers": {key: value.decode() for key, value in headers(fields)},
        "payload": orjson.loads(encode(fields)),
    }


def _sample(schema: dict[str, Any], name: str, defs: dict[str, Any]) -> Any:
    """A value of the schema, recognisable as an example (no real person or studio)."""
    if "$ref" in schema:
        return _sample(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), name, defs)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        chosen = next((o for o in options if o.get("type") != "null"), options[0])
        return _sample(chosen, name, defs)
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") == "uuid":
            return str(uuid5(EXAMPLE_NAMESPACE, name))
        if schema.get("format") == "date-time":
            return EXAMPLE_TIME.isoformat()
        return "client@example.com" if "email" in name else f"example {name}"
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        if "prefixItems" in schema:
            return [_sample(s, name, defs) for s in schema["prefixItems"]]
        return [_sample(schema.get("items", {}), name, defs)]
    if kind == "object":
        if "properties" in schema:
            return {k: _sample(v, k, defs) for k, v in schema["properties"].items()}
        extra = schema.get("additionalProperties")
        return {"name": _sample(extra, "name", defs)} if isinstance(extra, dict) else {}
    return f"example {name}"


def description(message: EventMessage) -> str:
    """The class's own docstring, the integration note, and what each schema version changed."""
    cls = message.event_class
    parts = [part for part in (_own_doc(cls), message.note) if part]
    version = schema_version(cls)
    parts.append(f"Schema version {version} (`schema` and the end of `ce_type`).")
    for old in range(1, version):
        upcast = getattr(cls, f"upcast_v{old}_v{old + 1}", None)
        change = inspect.getdoc(upcast) if upcast is not None else None
        parts.append(f"v{old} -> v{old + 1}: {change or 'see the payload schema.'}")
    if version > 1:
        parts.append(
            "Messages published before a change keep the version they were published with; "
            "every event the relay publishes now, old ones included, is in the current shape."
        )
    return " ".join(parts)


def _own_doc(cls: type) -> str | None:
    """The docstring written on the event class, not the signature dataclasses put there."""
    for klass in cls.__mro__:
        if klass.__qualname__ != cls.__qualname__ or klass.__module__ != cls.__module__:
            continue
        doc = klass.__dict__.get("__doc__")
        if doc and not doc.startswith(f"{klass.__name__}("):
            return inspect.cleandoc(doc)
    return None


def asyncapi_document(bootstrap: str, version: str, topic_prefix: str = "") -> dict[str, Any]:
    """The whole document: every topic, every event type on it, and every dead-letter topic."""
    messages = event_messages()
    data, definitions = data_schemas(list({m.event_class: None for m in messages}))
    envelope = Envelope.model_json_schema(by_alias=True, ref_template=SCHEMA_REF)
    components_messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {
        **definitions,
        "Envelope": envelope,
        "SealedText": {
            "type": "string",
            "pattern": "^pd1:[A-Za-z0-9_-]{38,}$",
            "description": SEALED,
            "x-example-key": EXAMPLE_KEY.secret.hex(),
        },
    }
    by_topic: dict[str, list[str]] = {}
    for m in messages:
        by_topic.setdefault(m.topic, []).append(m.name)
        components_messages[m.name] = {
            "name": m.name,
            "title": m.name,
            "summary": f"{m.name}, schema version {schema_version(m.event_class)}",
            "description": description(m),
            "contentType": CONTENT_TYPE,
            "headers": headers_schema(m),
            "payload": payload_schema(m, data[m.event_class], envelope),
            "examples": [example(m, data[m.event_class], definitions)],
            "bindings": {"kafka": _key_binding("The aggregate id.")},
            "x-schema-version": schema_version(m.event_class),
        }
        if sealed_fields(m.name):
            components_messages[m.name]["x-sealed-fields"] = sealed_fields(m.name)
    descriptions = {s.topic: s.description for s in STREAMS.values()} | INTEGRATION_TOPICS
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic, names in by_topic.items():
        schemas[f"{topic}.types"] = {
            "type": "string",
            "enum": names,
            "description": f"The `type` of every message on {topic}.",
        }
        channels[topic] = _channel(
            topic_prefix + topic,
            f"{descriptions[topic]} Keyed by aggregate id. Event types: {', '.join(names)}.",
            names,
        )
        channels[topic]["x-event-types"] = names
        operations[f"{topic}.publish"] = _operation(topic, names, "Every event of this topic.")
    for topic in list(by_topic):
        dlt = dead_letter_topic(topic)
        components_messages[dlt] = _dead_letter_message(topic)
        channels[dlt] = _channel(topic_prefix + dlt, DEAD_LETTERS.format(topic=topic), [dlt])
        operations[f"{dlt}.publish"] = _operation(dlt, [dlt], "Parked messages of " + topic)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": "PhotoFlow events", "version": version, "description": DESCRIPTION},
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "kafka": {
                "host": bootstrap.split(",")[0].strip(),
                "protocol": "kafka",
                "description": "The platform's Kafka (PHOTOFLOW_KAFKA_BOOTSTRAP).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": components_messages, "schemas": schemas},
    }


def _channel(address: str, text: str, names: list[str]) -> dict[str, Any]:
    return {
        "address": address,
        "title": address,
        "description": text,
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in names},
        "bindings": {
            "kafka": {
                "topic": address,
                "topicConfiguration": KEEP_FOREVER,
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _operation(channel: str, names: list[str], summary: str) -> dict[str, Any]:
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{channel}"},
        "summary": summary,
        "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in names],
    }


def _key_binding(text: str) -> dict[str, Any]:
    return {
        "key": {"type": "string", "format": "uuid", "description": text},
        "bindingVersion": KAFKA_BINDING_VERSION,
    }


def _dead_letter_message(topic: str) -> dict[str, Any]:
    dlt = {name: {"type": "string", "description": text} for name, text in DLT_HEADERS.items()}
    dlt["dlt_partition"]["pattern"] = dlt["dlt_offset"]["pattern"] = "^[0-9]+$"
    original = {
        name: {"type": "string", "description": f"As on the original message of {topic}."}
        for name in ("type", "id", "ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time")
    }
    original["content-type"] = {"type": "string", "description": "As on the original message."}
    return {
        "name": dead_letter_topic(topic),
        "title": f"Parked message of {topic}",
        "description": DEAD_LETTERS.format(topic=topic),
        "headers": {
            "type": "object",
            "properties": {**original, **dlt},
            "required": list(DLT_HEADERS),
        },
        "payload": {
            "description": f"The original bytes, unchanged: usually one of {topic}'s envelopes "
            "(see that channel's messages), but possibly not JSON at all."
        },
        "bindings": {"kafka": _key_binding("The original message's key.")},
    }
