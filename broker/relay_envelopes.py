"""Stored events into the relay's Kafka messages, straight from the rows of the events table.

The relay used to turn each notification into a domain event through eventsourcing's mapper
(``json`` with a Python ``object_hook``, about 10 µs an event) and describe it (a ``uuid5`` for
its id, about 5 µs), all on the core that also runs the producer. This module builds the very
same messages from the stored rows: ``orjson`` parses the state, the transcoder's own
transcodings revive the ``{"_type_": ..., "_data_": ...}`` values bottom-up exactly as its
``object_hook`` would, the class's ``upcast_vN_vM`` run on the state in the mapper's order, and
the event object is made as the mapper makes it, so what ``describe`` reads (``org_id_of``,
the data fields, the ``actor`` attribute) is what it always read. Written differently, to the
same text and bytes: the id (the same ``uuid5``, as text at once: orjson writes a UUID as that
text) and the headers (the parts that depend on the type only are taken from
``broker.envelope.headers`` once per type).

Everything the fast path is not sure to reproduce goes through the mapper instead, one event at
a time: a custom mapper's own topics (the albums' legacy ``StateChanged``), an application
whose mapper is not known here, a state orjson refuses (NaN, huge integers) or a ``_type_``
nobody registered. And the first event of every topic is also built through the mapper and
compared, byte for byte and header by header: if ``broker.envelope`` ever describes events
differently from this copy, that type goes through the mapper from then on (with a warning),
rather than publishing a different envelope.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, Protocol
from uuid import UUID, SafeUUID

import orjson
from eventsourcing.application import Application
from eventsourcing.domain import AggregateEvent
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    Notification,
    Transcoding,
    UUIDAsHex,
)
from eventsourcing.utils import TopicError, resolve_topic

from broker.envelope import (
    EVENT_ID_NAMESPACE,
    NOT_DATA,
    cloudevents_source,
    describe,
    encode,
    headers,
    integration_copy,
    schema_version,
    type_name,
)
from broker.topics import INTEGRATION_EVENTS, EventStream, stream_of

log = logging.getLogger(__name__)

# The mappers whose output the fast path reproduces, and the topics each handles itself.
_KNOWN_MAPPERS: dict[str, frozenset[str]] = {
    "eventsourcing.persistence:Mapper": frozenset(),
    "commands.album_upcasting:AlbumMapper": frozenset({"domains.album:Album.StateChanged"}),
}


Message = tuple[str, bytes, bytes, list[tuple[str, bytes]]]
"""A Kafka message as a plain tuple: topic, key, value, headers (as the builder process's
answers arrive)."""


class Batch(NamedTuple):
    """The messages of one read, and the position they reach."""

    reached: int
    messages: Sequence[Message]
    key_hashes: Sequence[int] | None = None
    """Per message, the producer's default partitioner's hash of its key, when computed
    elsewhere (``broker.relay_process``): the partition is then picked from it, without
    hashing in the sending process."""


class Outgoing(NamedTuple):
    """One Kafka message as the relay sends it (a tuple: thousands are made a second)."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class Row(Protocol):
    """A stored event as the relay selects it (a tuple, or an asyncpg record): notification id,
    originator id (a UUID, or its text), version, topic, state (as stored: perhaps compressed
    and encrypted)."""

    def __getitem__(self, index: int, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


class _Unusual(Exception):
    """A stored state the fast path does not reproduce for sure: the mapper reads it instead."""


@dataclass(frozen=True)
class _Plan:
    """What one topic's events become, worked out once per topic."""

    cls: type[AggregateEvent]
    stream: EventStream
    name: str
    schema: int
    class_version: int
    integration: tuple[str, str] | None
    topic: str  # with the world's prefix
    headers: tuple[tuple[str, bytes], ...]  # those every message of the type shares
    source: bytes  # ce_source without the aggregate id


_SKIP = "skip"  # snapshots and internal aggregates: never published
_MAPPER = "mapper"  # read through the application's mapper, as before


_SCALARS: dict[type[Transcoding], Callable[[Any], Any]] = {
    UUIDAsHex: UUID,
    DatetimeAsISO: datetime.fromisoformat,
    DecimalAsStr: Decimal,
}
"""What each of the library's scalar transcodings' ``decode`` does, minus its type assert (a
value of the wrong type fails either way, and then goes through the mapper)."""

_NAMESPACE = EVENT_ID_NAMESPACE.bytes
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
_UNKNOWN_SAFETY = SafeUUID.unknown  # an enum member's lookup is a Python property call
_new = object.__new__
_set = object.__setattr__


def event_id_text(aggregate_id: str, version: int) -> str:
    """``str(broker.envelope.event_id(...))`` without making UUIDs: a uuid5 (RFC 4122), as text.

    The SHA-1 of namespace and name, with the version nibble set to 5 and the variant bits to
    10, written straight from the hex digest.
    """
    x = hashlib.sha1(_NAMESPACE + f"{aggregate_id}:{version}".encode()).hexdigest()
    return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"


def _uuid(value: UUID | str) -> UUID:
    """A ``uuid.UUID`` itself (what the mapper gives) from the text or asyncpg's subclass.

    What ``UUID.__init__`` ends with, without its checks: PostgreSQL's uuid text is canonical.
    """
    if type(value) is UUID:
        return value
    made = _new(UUID)
    _set(made, "int", int(value.replace("-", ""), 16) if isinstance(value, str) else value.int)
    _set(made, "is_safe", _UNKNOWN_SAFETY)
    return made


class MessageBuilder:
    """One application's stored rows into Kafka messages: the mapper's result, faster."""

    def __init__(self, app: Application[UUID], topic_prefix: str = "") -> None:
        self._app = app
        self._prefix = topic_prefix
        mapper: Mapper[UUID] = app.mapper
        self._cipher = mapper.cipher
        self._compressor = mapper.compressor
        cls = type(mapper)
        own = _KNOWN_MAPPERS.get(f"{cls.__module__}:{cls.__qualname__}")
        transcoder = mapper.transcoder
        # Anything else: every event goes through the mapper (still skipping what is skipped).
        self._fast = own is not None and type(transcoder) is JSONTranscoder
        self._mapper_topics = own or frozenset()
        self._transcodings = (
            dict(transcoder.names) if isinstance(transcoder, JSONTranscoder) else {}
        )
        # the library's own transcodings of scalars, by the C function each amounts to
        self._decoders: dict[str, Callable[[Any], Any]] = {
            name: _SCALARS.get(type(transcoding), transcoding.decode)
            for name, transcoding in self._transcodings.items()
        }
        self._plans: dict[str, _Plan | str] = {}
        self._checked: set[str] = set()
        self.fallbacks = 0
        """Events of fast-path types read through the mapper all the same (``_Unusual``)."""

    def build(self, rows: Iterable[Row]) -> list[Message]:
        """The messages for these rows, in order (blocking: CPU only)."""
        outgoing: list[Message] = []
        plans = self._plans
        for row in rows:
            topic = row[3]
            plan = plans.get(topic) or self._plan(topic)
            if plan is _SKIP:
                continue
            if plan is _MAPPER or not isinstance(plan, _Plan):
                outgoing.extend(self._through_mapper(row))
                continue
            try:
                messages = self._fast_messages(row, plan)
            except _Unusual:
                self.fallbacks += 1
                messages = self._through_mapper(row)
            if topic not in self._checked:
                self._check(row, messages)
            outgoing.extend(messages)
        return outgoing

    @property
    def read_through_mapper(self) -> set[str]:
        """The topics seen so far whose events all go through the mapper."""
        return {topic for topic, plan in self._plans.items() if plan is _MAPPER}

    # the fast path ------------------------------------------------------------------------

    def _fast_messages(self, row: Row, plan: _Plan) -> list[Message]:
        _, originator, version, _, stored = row
        if self._cipher:
            stored = self._cipher.decrypt(stored)
        if self._compressor:
            stored = self._compressor.decompress(stored)
        try:
            state = orjson.loads(stored)
        except orjson.JSONDecodeError:
            raise _Unusual from None
        if type(state) is not dict:
            raise _Unusual
        decoders = self._decoders
        for name, value in state.items():  # the top level inline: most values are plain
            kind = type(value)
            if kind is dict:
                data = value.get("_data_")
                kind_name = value.get("_type_")
                if len(value) == 2 and type(data) is str and type(kind_name) is str:
                    # a transcoded scalar, as timestamps and ids are: nothing inside to revive
                    decode = decoders.get(kind_name)
                    if decode is None:  # the mapper raises the library's own error for it
                        raise _Unusual
                    try:
                        state[name] = decode(data)
                    except Exception:
                        raise _Unusual from None
                else:
                    state[name] = self._revive_dict(value)
            elif kind is list:
                self._revive_list(value)
        if len(state) == 2 and "_type_" in state and "_data_" in state:
            raise _Unusual  # a whole state that is one transcoded value: not an event's
        # What the mapper does next, in its order (the data's key order follows from it).
        state["originator_id"] = _uuid(originator)
        state["originator_version"] = version
        from_version = state.pop("class_version", 1)
        while from_version < plan.class_version:
            getattr(plan.cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        event = _new(plan.cls)
        _set(event, "__dict__", state)
        aggregate = originator if type(originator) is str else str(originator)
        stream = plan.stream
        ident = event_id_text(aggregate, version)
        occurred = event.timestamp
        fields = {  # broker.envelope.describe, with the id already as the text orjson writes
            "id": ident,
            "type": plan.name,
            "stream": stream.name,
            "aggregate_id": event.originator_id,
            "version": event.originator_version,
            "org_id": stream.org_id_of(event),
            "occurred_at": occurred,
            "schema": plan.schema,
            "actor": getattr(event, "actor", None),
            "data": {k: v for k, v in state.items() if k not in NOT_DATA},
        }
        key = aggregate.encode()
        id_bytes = ident.encode()
        at = occurred if isinstance(occurred, str) else occurred.isoformat()
        messages: list[Message] = [
            (  # broker.envelope.headers, for fields whose id is text already
                plan.topic,
                key,
                orjson.dumps(fields),
                [
                    *plan.headers,
                    ("id", id_bytes),
                    ("ce_id", id_bytes),
                    ("ce_source", plan.source + key),
                    ("ce_time", at.encode()),
                ],
            )
        ]
        if plan.integration is not None:
            topic, renamed = plan.integration
            copy = integration_copy({**fields, "id": UUID(ident)}, renamed)
            messages.append(self._message(topic, key, copy))
        return messages

    def _revive_dict(self, obj: dict[str, Any]) -> Any:
        """The transcoder's ``object_hook``, applied bottom-up as ``json`` applies it."""
        for name, value in obj.items():
            kind = type(value)
            if kind is dict:
                obj[name] = self._revive_dict(value)
            elif kind is list:
                self._revive_list(value)
        if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
            try:
                transcoding = self._transcodings[obj["_type_"]]
                return transcoding.decode(obj["_data_"])
            except Exception:  # the mapper raises the library's own error for it
                raise _Unusual from None
        return obj

    def _revive_list(self, items: list[Any]) -> None:
        for i, value in enumerate(items):
            kind = type(value)
            if kind is dict:
                items[i] = self._revive_dict(value)
            elif kind is list:
                self._revive_list(value)

    def _message(self, topic: str, key: bytes, fields: dict[str, Any]) -> Message:
        return (self._prefix + topic, key, encode(fields), headers(fields, key))

    # the mapper's path, the reference -----------------------------------------------------

    def _through_mapper(self, row: Row) -> list[Message]:
        notification_id, originator, version, topic, state = row
        event = self._app.mapper.to_domain_event(
            Notification(
                id=notification_id,
                originator_id=_uuid(originator),
                originator_version=version,
                topic=topic,
                state=state,
            )
        )
        return self.describe(event)

    def describe(self, event: object) -> list[Message]:
        """A domain event as the relay always published it (none for snapshots and internals)."""
        if not isinstance(event, AggregateEvent):  # a snapshot: not part of the history
            return []
        stream = stream_of(event)
        if stream is None:  # an internal aggregate, such as a uniqueness index
            return []
        fields = describe(event, stream)
        key = str(event.originator_id).encode()
        messages = [self._message(stream.topic, key, fields)]
        integration = INTEGRATION_EVENTS.get(fields["type"])
        if integration is not None:
            topic, renamed = integration
            messages.append(self._message(topic, key, integration_copy(fields, renamed)))
        return messages

    def _check(self, row: Row, fast: list[Message]) -> None:
        """A topic's first event, built both ways: if they differ, the type goes to the mapper."""
        topic = row[3]
        self._checked.add(topic)
        reference = self._through_mapper(row)
        if reference != fast:
            log.warning(
                "relay: the fast path differs from the mapper for %s; that type now goes "
                "through the mapper (fast %r, mapper %r)",
                topic,
                fast,
                reference,
            )
            self._plans[topic] = _MAPPER

    def _plan(self, topic: str) -> _Plan | str:
        plan = self._plans[topic] = self._work_out(topic)
        return plan

    def _work_out(self, topic: str) -> _Plan | str:
        if not self._fast or topic in self._mapper_topics:
            return _MAPPER
        try:
            cls = resolve_topic(topic)
        except TopicError:  # no class answers to it: the mapper decides (or fails)
            return _MAPPER
        if not isinstance(cls, type) or not issubclass(cls, AggregateEvent):
            return _SKIP
        stream = _stream_of_class(cls)
        if stream is None:
            return _SKIP
        name = type_name(cls)
        schema = schema_version(cls)
        # the parts of broker.envelope.headers that depend on the type only (checked: _check)
        constant = headers(
            {
                "id": "",
                "type": name,
                "schema": schema,
                "stream": stream.name,
                "occurred_at": "",
                "aggregate_id": "",
            },
            b"",
        )[:-4]
        return _Plan(
            cls=cls,
            stream=stream,
            name=name,
            schema=schema,
            class_version=int(getattr(cls, "class_version", 1)),
            integration=INTEGRATION_EVENTS.get(name),
            topic=self._prefix + stream.topic,
            headers=tuple(constant),
            source=cloudevents_source(stream.name, "").encode(),
        )


def _stream_of_class(cls: type[AggregateEvent]) -> EventStream | None:
    """``broker.topics.stream_of`` for a class (it looks only at the event's type)."""
    probe = object.__new__(cls)
    return stream_of(probe)
