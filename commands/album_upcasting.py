"""Album events recorded in an older shape, read back in today's vocabulary.

Until issue 9 every workflow step was recorded as one generic ``Album.StateChanged(command,
state, note, actor)``. Those events stay in the store exactly as they were written; the albums
application reads every stored event through ``AlbumMapper``, which turns such an event into
the named event the step records today (``SelectionSubmitted``, ``Delivered``, ...). The
aggregate, the audit routes and the relay all read through the mapper, so replays, projections
and integrators see one vocabulary. Field-level changes of one type (a field added) use the
library's own ``class_version``/``upcast_vN_vM`` on the event class instead.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from domains.album import Album

LEGACY_STATE_CHANGED = "domains.album:Album.StateChanged"
"""The topic the old generic event was stored under; no class answers to it any more."""

# command -> the named event it records now, and the old fields it keeps besides org_id, actor
_NAMED: dict[str, tuple[type[Album.Event], tuple[str, ...]]] = {
    "submit": (Album.SelectionSubmitted, ()),
    "start_editing": (Album.EditingStarted, ()),
    "deliver": (Album.Delivered, ()),
    "request_changes": (Album.ChangesRequested, ("note",)),
    "approve": (Album.Approved, ()),
    "archive": (Album.Archived, ()),
    "reopen": (Album.Reopened, ("state",)),
}


def upcast_state_changed(state: dict[str, Any]) -> tuple[type[Album.Event], dict[str, Any]]:
    """The named event class, and its stored state, for an old ``StateChanged``'s state."""
    command = str(state["command"])
    try:
        named, kept = _NAMED[command]
    except KeyError:
        raise ValueError(f"a StateChanged event with an unknown command {command!r}") from None
    fields = {"timestamp": state["timestamp"], "org_id": state["org_id"], "actor": state["actor"]}
    fields.update({name: state.get(name) for name in kept})
    return named, fields


class AlbumMapper(Mapper[UUID]):
    """The library's mapper, plus the one cross-type upcast: StateChanged -> named events."""

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        if stored_event.topic != LEGACY_STATE_CHANGED:
            return super().to_domain_event(stored_event)
        named, fields = upcast_state_changed(self._decode(stored_event.state))
        return super().to_domain_event(
            StoredEvent(
                originator_id=stored_event.originator_id,
                originator_version=stored_event.originator_version,
                topic=get_topic(named),
                state=self._encode(fields),
            )
        )

    def _decode(self, stored: bytes) -> dict[str, Any]:
        if self.cipher:
            stored = self.cipher.decrypt(stored)
        if self.compressor:
            stored = self.compressor.decompress(stored)
        state: dict[str, Any] = self.transcoder.decode(stored)
        return state

    def _encode(self, state: dict[str, Any]) -> bytes:
        encoded = self.transcoder.encode(state)
        if self.compressor:
            encoded = self.compressor.compress(encoded)
        if self.cipher:
            encoded = self.cipher.encrypt(encoded)
        return encoded
