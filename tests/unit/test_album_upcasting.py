"""Album events stored in the old shape read back as today's named events, everywhere.

Before issue 9 every workflow step was stored as ``Album.StateChanged(command, state, ...)``
and a guest's pick, rating or comment named no ``actor``. The events here are written into the
store byte for byte as the old code wrote them; the aggregate, the audit history and the
relay's envelopes must all see the named events.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from broker.envelope import decode
from broker.relay import RelaySource
from commands.album_upcasting import LEGACY_STATE_CHANGED, upcast_state_changed
from commands.albums import AlbumsApplication
from commands.history import EventHistory
from domains.album import Album, NewAlbum, photo_id_for

NOW = datetime(2026, 6, 1, tzinfo=UTC)
OLD_STEPS = [  # (command, state it led to, note), as the old code recorded a whole workflow
    ("submit", "selection_submitted", None),
    ("start_editing", "editing", None),
    ("deliver", "delivered", None),
    ("request_changes", "changes_requested", "One more crop"),
    ("start_editing", "editing", None),
    ("deliver", "delivered", None),
    ("approve", "approved", None),
    ("archive", "archived", None),
    ("reopen", "approved", None),
]
NAMED = [
    "AlbumSelectionSubmitted",
    "AlbumEditingStarted",
    "AlbumDelivered",
    "AlbumChangesRequested",
    "AlbumEditingStarted",
    "AlbumDelivered",
    "AlbumApproved",
    "AlbumArchived",
    "AlbumReopened",
]


def store_as_the_old_code(app: AlbumsApplication, album: Album, topic: str, **state: Any) -> None:
    """One event with the old topic and fields (no class_version), appended to the album."""
    version = album.version + 1
    state["timestamp"] = NOW + timedelta(seconds=version)
    stored = StoredEvent(album.id, version, topic, app.mapper.transcoder.encode(state))
    app.recorder.insert_events([stored])
    album._version = version  # keep counting; the store is the truth from here on


@pytest.fixture
def recorded() -> tuple[AlbumsApplication, UUID, UUID]:
    """An album shared through today's code, then picked, rated, commented and taken through
    its whole workflow by the old code."""
    app = AlbumsApplication()  # in memory: the same mapper as on PostgreSQL
    org_id = uuid4()
    album = Album.create(org_id, NewAlbum("Old", "Cleo", "cleo@example.com", uuid4()), "u1")
    album.request_sync("u1")
    album.update_photos([("a.jpg", "a.jpg")])
    album.share("n", "h", None, False, "u1", NOW)
    app.save(album)
    photo = photo_id_for(album.id, "a.jpg")
    guest = {"org_id": org_id, "photo_id": photo, "guest": "anna"}
    store_as_the_old_code(app, album, "domains.album:Album.PhotoSelected", **guest)
    store_as_the_old_code(
        app, album, "domains.album:Album.PhotoRated", **guest, rating=4, color="green"
    )
    store_as_the_old_code(
        app,
        album,
        "domains.album:Album.CommentAdded",
        org_id=org_id,
        photo_id=photo,
        comment_id=uuid4(),
        author="client:anna",
        text="Warmer",
    )
    for command, state, note in OLD_STEPS:
        actor = "client:anna" if command in ("submit", "request_changes", "approve") else "u1"
        store_as_the_old_code(
            app,
            album,
            LEGACY_STATE_CHANGED,
            org_id=org_id,
            command=command,
            state=state,
            note=note,
            actor=actor,
        )
    return app, album.id, photo


def test_the_aggregate_replays_old_events_into_its_state(
    recorded: tuple[AlbumsApplication, UUID, UUID],
) -> None:
    app, album_id, photo = recorded
    album: Album = app.repository.get(album_id)
    assert album.state == "approved" and album.state_before_archive == "approved"
    assert album.photos[photo].picked_by == {"anna"}
    assert album.photos[photo].ratings == {"anna": (4, "green")}
    assert album.photos[photo].comment_count == 1
    events = list(app.events.get(album_id))
    assert not any(type(e).__name__ == "StateChanged" for e in events)


async def test_audit_history_names_each_step(
    recorded: tuple[AlbumsApplication, UUID, UUID],
) -> None:
    app, album_id, _ = recorded
    entries = await EventHistory({"albums": app}).events("albums", album_id, 0, 100)
    types = [e["type"] for e in entries]
    assert types[-9:] == NAMED
    assert types[-12:-9] == ["AlbumPhotoSelected", "AlbumPhotoRated", "AlbumCommentAdded"]
    assert [e["actor"] for e in entries[-12:-9]] == ["client:anna"] * 3
    changes = entries[-6]
    assert changes["data"]["note"] == "One more crop" and changes["actor"] == "client:anna"
    assert entries[-1]["data"]["state"] == "approved"  # Reopened names where it went back to


def test_the_relay_publishes_named_envelopes(
    recorded: tuple[AlbumsApplication, UUID, UUID],
) -> None:
    app, album_id, _ = recorded
    _, outgoing = RelaySource(app).read(0, 100)
    envelopes = [decode(m.value) for m in outgoing if m.topic == "photoflow.album"]
    assert [e.type for e in envelopes][-9:] == NAMED
    assert all(e.aggregate_id == album_id for e in envelopes)
    submitted = envelopes[-9]
    assert submitted.actor == "client:anna" and "command" not in submitted.data
    assert orjson.loads(outgoing[-1].value)["type"] == "AlbumReopened"


def test_an_unknown_old_command_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="unknown command"):
        upcast_state_changed({"command": "teleport", "timestamp": NOW, "org_id": 1, "actor": "x"})
