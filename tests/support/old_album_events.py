"""Album events written into a store byte for byte as the code before issue 9 wrote them.

Every workflow step was then one ``Album.StateChanged(command, state, note, actor)``, and a
guest's pick, rating or comment named no ``actor``. ``record_an_old_album`` shares an album with
today's code, then appends such events to it straight through the application's recorder.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from broker.envelope import decode
from broker.relay import RelaySource
from commands.album_upcasting import LEGACY_STATE_CHANGED
from commands.history import EventHistory
from domains.album import Album, NewAlbum, photo_id_for
from domains.personal_data import ClientKey

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


def store_as_the_old_code(app: Application[UUID], album: Album, topic: str, **state: Any) -> None:
    """One event with the old topic and fields (no class_version), appended to the album."""
    version = album.version + 1
    state["timestamp"] = NOW + timedelta(seconds=version)
    stored = StoredEvent(album.id, version, topic, app.mapper.transcoder.encode(state))
    app.recorder.insert_events([stored])
    album._version = version  # keep counting; the store is the truth from here on


def record_an_old_album(app: Application[UUID]) -> tuple[UUID, UUID]:
    """An album shared through today's code, then picked, rated, commented and taken through
    its whole workflow by the old code; its id and its photo's."""
    org_id = uuid4()
    new = NewAlbum("Old", "Cleo", "cleo@example.com", uuid4())
    album = Album.create(org_id, new, "u1", key=ClientKey(bytes(32)))
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
    return album.id, photo


# What must be seen of such an album, whichever store holds it ------------------------------


def assert_the_aggregate_replays_them(app: Application[UUID], album_id: UUID, photo: UUID) -> None:
    album: Album = app.repository.get(album_id)
    assert album.state == "approved" and album.state_before_archive == "approved"
    assert album.photos[photo].picked_by == {"anna"}
    assert album.photos[photo].ratings == {"anna": (4, "green")}
    assert album.photos[photo].comment_count == 1
    events = list(app.events.get(album_id))
    assert not any(type(e).__name__ == "StateChanged" for e in events)


async def assert_the_audit_names_each_step(app: Application[UUID], album_id: UUID) -> None:
    entries = await EventHistory({"albums": app}).events("albums", album_id, 0, 100)
    types = [e["type"] for e in entries]
    assert types[-9:] == NAMED
    assert types[-12:-9] == ["AlbumPhotoSelected", "AlbumPhotoRated", "AlbumCommentAdded"]
    assert [e["actor"] for e in entries[-12:-9]] == ["client:anna"] * 3
    changes = entries[-6]
    assert changes["data"]["note"] == "One more crop" and changes["actor"] == "client:anna"
    assert entries[-1]["data"]["state"] == "approved"  # Reopened names where it went back to


def assert_the_relay_publishes_named_envelopes(app: Application[UUID], album_id: UUID) -> None:
    _, outgoing = RelaySource(app).read(0, 1000)
    envelopes = [decode(m.value) for m in outgoing if m.topic.endswith("photoflow.album")]
    assert [e.type for e in envelopes][-9:] == NAMED
    assert all(e.aggregate_id == album_id for e in envelopes)
    submitted = envelopes[-9]
    assert submitted.actor == "client:anna" and "command" not in submitted.data
