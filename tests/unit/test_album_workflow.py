"""The album's state machine checked against the contract's Albums section, cell by cell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domains.album import (
    STATES,
    TRANSITIONS,
    Album,
    NewAlbum,
    NotAllowedNow,
    SelectionFull,
    photo_id_for,
)
from domains.album_workflow import ShareArchived, ShareExpired
from domains.errors import InvalidValue, NotFound
from domains.personal_data import ClientKey

# From ../shared/contract.md: draft -> syncing -> ready -> shared -> selection_submitted ->
# editing -> delivered -> approved; delivered -> changes_requested -> editing; any -> archived;
# archived -> the state it left. Written out here, independently of domains/album.py.
CONTRACT_MOVES = {
    ("draft", "sync"): "syncing",
    ("ready", "sync"): "syncing",
    ("shared", "sync"): "syncing",
    ("ready", "share"): "shared",
    ("shared", "share"): "shared",
    ("shared", "submit"): "selection_submitted",
    ("selection_submitted", "start_editing"): "editing",
    ("changes_requested", "start_editing"): "editing",
    ("editing", "deliver"): "delivered",
    ("delivered", "request_changes"): "changes_requested",
    ("delivered", "approve"): "approved",
    **{(state, "archive"): "archived" for state in STATES if state != "archived"},
}
STEPS = (
    "sync",
    "share",
    "submit",
    "start_editing",
    "deliver",
    "request_changes",
    "approve",
    "archive",
)


def album_in(state: str) -> Album:
    """An album brought into ``state`` through its own commands."""
    album = Album.create(
        uuid4(), NewAlbum("Wedding", "Anna", "anna@example.com", uuid4()), "p", key=KEY
    )
    path = {
        "draft": [],
        "syncing": ["sync"],
        "ready": ["sync", "finish"],
        "shared": ["sync", "finish", "share", "pick"],
        "selection_submitted": ["sync", "finish", "share", "pick", "submit"],
        "editing": ["sync", "finish", "share", "pick", "submit", "start_editing"],
        "delivered": ["sync", "finish", "share", "pick", "submit", "start_editing", "deliver"],
        "changes_requested": [
            "sync",
            "finish",
            "share",
            "pick",
            "submit",
            "start_editing",
            "deliver",
            "request_changes",
        ],
        "approved": [
            "sync",
            "finish",
            "share",
            "pick",
            "submit",
            "start_editing",
            "deliver",
            "approve",
        ],
        "archived": ["archive"],
    }[state]
    for step in path:
        run(album, step)
    assert album.state == state
    return album


def run(album: Album, step: str) -> None:
    if step == "sync":
        album.request_sync("p")
    elif step == "finish":
        album.update_photos([("a.jpg", "a.jpg"), ("b.jpg", "b.jpg")])
    elif step == "share":
        album.share("nonce", "hash", None, False, "p", NOW)
    elif step == "pick":
        album.select(photo_id_for(album.id, "a.jpg"), "guest", key=KEY)
    elif step in GUEST_STEPS:
        getattr(album, step)("guest", key=KEY)
    else:  # start_editing, deliver, archive: one method each
        getattr(album, step)("p")


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("step", STEPS)
def test_every_step_in_every_state_is_allowed_exactly_as_the_contract_says(
    state: str, step: str
) -> None:
    album = album_in(state)
    expected = CONTRACT_MOVES.get((state, step))
    if expected is None:
        with pytest.raises(NotAllowedNow) as refused:
            run(album, step)
        assert state in str(refused.value)
        assert step not in refused.value.allowed
    else:
        run(album, step)
        assert album.state == expected


@pytest.mark.parametrize("state", [s for s in STATES if s != "archived"])
def test_reopen_returns_to_the_state_the_album_left(state: str) -> None:
    album = album_in(state)
    album.archive("p")
    album.reopen("p")
    assert album.state == state
    assert [type(e).__name__ for e in album.collect_events()][-2:] == ["Archived", "Reopened"]


def test_the_table_names_every_command_the_routes_use() -> None:
    assert set(STEPS) | {
        "finish_sync",
        "revoke_share",
        "select",
        "rate",
        "comment",
        "set_proc_status",
        "tag",
        "reopen",
    } == set(TRANSITIONS)


def test_the_limit_counts_photos_picked_by_any_guest_once() -> None:
    album = Album.create(
        uuid4(), NewAlbum("W", "A", "a@x.io", uuid4(), selection_limit=2), "p", key=KEY
    )
    run(album, "sync")
    album.update_photos([(f"{i}.jpg", f"{i}.jpg") for i in range(4)])
    run(album, "share")
    ids = [photo_id_for(album.id, f"{i}.jpg") for i in range(4)]
    album.select(ids[0], "anna", key=KEY)
    album.select(ids[0], "ben", key=KEY)  # the same photo: still one of two
    album.select(ids[1], "ben", key=KEY)
    with pytest.raises(SelectionFull):
        album.select(ids[2], "anna", key=KEY)
    album.deselect(ids[1], "ben", key=KEY)
    album.select(ids[2], "anna", key=KEY)
    assert album.selected() == {ids[0], ids[2]}


def test_a_share_link_expires_and_dies_with_archiving_saying_which() -> None:
    album = album_in("shared")
    now = datetime.now(UTC)
    album.share("nonce", "h", now + timedelta(minutes=1), True, "p", now)
    album.check_share("h", now)
    with pytest.raises(ShareExpired):
        album.check_share("h", now + timedelta(minutes=2))
    with pytest.raises(NotFound):
        album.check_share("other", now)
    album.archive("p")
    with pytest.raises(ShareArchived):
        album.check_share("h", now)
    with pytest.raises(NotFound):  # a wrong link learns nothing, archived or not
        album.check_share("other", now)


def test_a_share_that_expires_in_the_past_is_refused() -> None:
    album = album_in("ready")
    with pytest.raises(InvalidValue) as refused:
        album.share("n", "h", NOW - timedelta(seconds=1), False, "p", NOW)
    assert refused.value.field == "expires_at"


@pytest.mark.parametrize("email", ["not an email <>", "anna@", "anna@example", "a b@example.com"])
def test_a_client_email_no_mail_could_reach_is_refused(email: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        Album.create(uuid4(), NewAlbum("Wedding", "Anna", email, uuid4()), "p", key=KEY)
    assert refused.value.field == "client.email"


def test_a_revoked_link_names_nothing_and_can_be_revoked_once() -> None:
    album = album_in("shared")
    album.revoke_share("p")
    with pytest.raises(NotFound):
        album.check_share("hash", NOW)
    with pytest.raises(NotFound):
        album.revoke_share("p")
    assert album.state == "shared"
    album.share("n2", "h2", None, False, "p", NOW)
    album.check_share("h2", NOW)


def test_ratings_and_colours_are_kept_per_guest() -> None:
    album = album_in("shared")
    photo = photo_id_for(album.id, "a.jpg")
    album.rate(photo, "anna", 5, "green", key=KEY)
    album.rate(photo, "ben", 2, None, key=KEY)
    album.rate(photo, "anna", 4, "red", key=KEY)
    anna, ben = KEY.seal("anna"), KEY.seal("ben")
    assert album.photos[photo].ratings == {anna: (4, "red"), ben: (2, None)}


def test_each_step_records_its_named_event_with_its_actor() -> None:
    album = album_in("shared")
    album.collect_events()
    photo = photo_id_for(album.id, "b.jpg")
    album.rate(photo, "anna", 3, None, key=KEY)
    album.comment(photo, uuid4(), "anna", "nice", key=KEY)
    album.submit("anna", key=KEY)
    album.start_editing("u1")
    album.deliver("u1")
    album.request_changes("anna", "crop", key=KEY)
    album.start_editing("u1")
    album.deliver("u1")
    album.approve("anna", key=KEY)
    album.tag("a/b", "u1")
    album.untag("a/b", "u1")
    events = album.collect_events()
    assert [type(e).__name__ for e in events] == [
        "PhotoRated",
        "CommentAdded",
        "SelectionSubmitted",
        "EditingStarted",
        "Delivered",
        "ChangesRequested",
        "EditingStarted",
        "Delivered",
        "Approved",
        "Tagged",
        "Untagged",
    ]
    assert [vars(e)["actor"] for e in events][:3] == [f"client:{KEY.seal('anna')}"] * 3
    assert album.tags == []


NOW = datetime(2026, 1, 1, tzinfo=UTC)
KEY = ClientKey(bytes(range(32)))
GUEST_STEPS = ("submit", "request_changes", "approve")
