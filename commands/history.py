"""The event store read for auditors: an aggregate's events, and its state at a version or time.

Audit answers come from the events themselves, not from read tables, so they cannot drift.
An album's sealed personal data is opened with its client's key (``ClientKeys``), read afresh
for every answer: once the client is forgotten it reads as forgotten
(``domains.personal_data``), while the stored events and their chain stay as they were.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, AggregateEvent

from broker.envelope import SECRET_FIELDS, describe
from broker.topics import ALBUMS, DOWNLOADS, STREAMS, EventStream
from commands.client_keys import ClientKeys
from commands.studio_roles import StudioRoles
from domains.album import Album
from domains.album_state import audit_state, open_audit_state
from domains.errors import InvalidValue, NotFound
from domains.personal_data import ClientKey, open_actor, open_data
from domains.policies import Role


class ChainLink(Protocol):
    @property
    def prev_hash(self) -> bytes | None: ...

    @property
    def hash(self) -> bytes: ...


class ChainVerdict(Protocol):
    @property
    def ok(self) -> bool: ...

    @property
    def length(self) -> int: ...

    @property
    def head(self) -> str | None: ...

    @property
    def broken_at(self) -> int | None: ...


class Chain(Protocol):
    """The hash chain recorded beside each stream's events (see ``infra.hash_chain``)."""

    async def links(self, stream: str, aggregate_id: UUID) -> Mapping[int, ChainLink]: ...

    async def verify(self, stream: str, aggregate_id: UUID) -> ChainVerdict: ...


class EventHistory:
    """Reads each stream's events from the application that records them."""

    def __init__(
        self,
        apps: Mapping[str, Application[UUID]],
        chain: Chain | None = None,
        roles: StudioRoles | None = None,
        keys: ClientKeys | None = None,
    ) -> None:
        self._apps = dict(apps)
        self._chain = chain
        self._roles = roles
        self._keys = keys

    async def _key(self, stream: str, aggregate_id: UUID) -> ClientKey | None:
        """The album client's key to open sealed data with; None: shown as forgotten."""
        if stream != ALBUMS.name or self._keys is None:
            return None
        return await self._keys.key_of(aggregate_id)

    async def role_in(self, org_id: UUID, user_id: UUID) -> Role | None:
        """The user's role in the studio, from the Organization aggregate itself.

        Read tables may not show a membership a moment after it was recorded (or removed); the
        audit answer comes from the event store, so who may read it does too. The repository's
        cache fast-forwards from the store, so this is one indexed read.
        """
        return await self._roles.role_of(org_id, user_id) if self._roles else None

    async def org_of(self, stream: str, aggregate_id: UUID) -> UUID | None:
        first = await asyncio.to_thread(self._events, stream, aggregate_id, 0, 1)
        if not first:
            raise NotFound(stream, aggregate_id)
        return STREAMS[stream].org_id_of(first[0])

    async def events(
        self, stream: str, aggregate_id: UUID, after_version: int, limit: int
    ) -> list[dict[str, Any]]:
        events = await asyncio.to_thread(self._events, stream, aggregate_id, after_version, limit)
        entries = [_audit_entry(e, STREAMS[stream]) for e in events]
        if stream in (ALBUMS.name, DOWNLOADS.name) and entries:
            album_id = aggregate_id if stream == ALBUMS.name else entries[0]["data"]["album_id"]
            key = await self._key(ALBUMS.name, album_id)
            for entry in entries:
                entry["data"] = open_data(entry["type"], entry["data"], key)
                entry["actor"] = open_actor(entry["actor"], key)
        if self._chain is not None and entries:
            links = await self._chain.links(stream, aggregate_id)
            for entry in entries:
                link = links.get(entry["version"])
                entry["hash"] = link.hash.hex() if link else None
                entry["prev_hash"] = link.prev_hash.hex() if link and link.prev_hash else None
        return entries

    async def verify(self, stream: str, aggregate_id: UUID) -> dict[str, Any]:
        """Whether the stored events still hash to their recorded chain, and where not."""
        if self._chain is None:
            raise NotFound("hash chain", aggregate_id)
        verdict = await self._chain.verify(stream, aggregate_id)
        return {
            "ok": verdict.ok,
            "length": verdict.length,
            "head": verdict.head,
            "broken_at": verdict.broken_at,
        }

    async def state(
        self, stream: str, aggregate_id: UUID, version: int | None, at: datetime | None
    ) -> dict[str, Any]:
        key = await self._key(stream, aggregate_id)
        found = await asyncio.to_thread(self._state, stream, aggregate_id, version, at)
        if stream == ALBUMS.name:
            found["state"] = open_audit_state(found["state"], key)
        return found

    def _events(
        self, stream: str, aggregate_id: UUID, after_version: int, limit: int
    ) -> list[AggregateEvent]:
        app = self._apps[stream]
        events = app.events.get(aggregate_id, gt=after_version or None, limit=limit)
        return [e for e in events if isinstance(e, AggregateEvent)]

    def _state(
        self, stream: str, aggregate_id: UUID, version: int | None, at: datetime | None
    ) -> dict[str, Any]:
        app = self._apps[stream]
        if at is not None:
            version = self._version_at(app, aggregate_id, at)
        try:
            aggregate: Aggregate = app.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise NotFound(stream, aggregate_id) from None
        if version is not None and aggregate.version < version:
            raise InvalidValue("version", f"the aggregate only reached version {aggregate.version}")
        return _state_of(aggregate)

    @staticmethod
    def _version_at(app: Application[UUID], aggregate_id: UUID, at: datetime) -> int:
        """The last version recorded at or before ``at``: a binary search over the versions
        (an aggregate's events are in time order), reading one event per step, so a time in
        a long stream costs a few reads instead of all its events."""
        newest = next(iter(app.events.get(aggregate_id, desc=True, limit=1)), None)
        if newest is None:
            raise NotFound("aggregate", aggregate_id)
        low, high, found = 1, newest.originator_version, None
        while low <= high:
            middle = (low + high) // 2
            probe = next(iter(app.events.get(aggregate_id, gt=middle - 1, lte=middle)), None)
            if isinstance(probe, AggregateEvent) and probe.timestamp <= at:
                found, low = middle, middle + 1
            else:
                high = middle - 1
        if found is None:
            raise InvalidValue("at", "the aggregate did not exist yet at that time")
        return found


def _audit_entry(event: AggregateEvent, stream: EventStream) -> dict[str, Any]:
    fields = describe(event, stream)
    return {k: fields[k] for k in ("id", "type", "version", "occurred_at", "actor", "data")}


def _state_of(aggregate: Aggregate) -> dict[str, Any]:
    """The aggregate's attributes, less the ones it declares secret (``SECRET_STATE``); an
    album in full, photos, picks per guest and ratings included (``domains.album_state``)."""
    hidden = SECRET_FIELDS | getattr(type(aggregate), "SECRET_STATE", frozenset())
    public = {k: v for k, v in vars(aggregate).items() if not k.startswith("_") and k not in hidden}
    if isinstance(aggregate, Album):
        public = audit_state(aggregate)
    return {
        "id": aggregate.id,
        "version": aggregate.version,
        "created_on": aggregate.created_on,
        "modified_on": aggregate.modified_on,
        "state": public,
    }
