"""The album's state machine checked against the contract's Albums section, cell by cell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domains.album import STATES, TRANSITIONS, Album, NotAllowedNow, SelectionFull, photo_id_for

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
    album = Album.create(uuid4(), "Wedding", "Anna", "anna@example.com", uuid4(), [], None, uuid4())
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
        album.share("nonce", "hash", None, False, "p")
    elif step == "pick":
        album.select(photo_id_for(album.id, "a.jpg"), "guest")
    else:
        album.step(step, "p")


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
    album.step("archive", "p")
    album.step("reopen", "p")
    assert album.state == state


def test_the_table_names_every_command_the_routes_use() -> None:
    assert set(STEPS) | {
        "finish_sync",
        "select",
        "rate",
        "comment",
        "set_proc_status",
        "tag",
        "reopen",
    } == set(TRANSITIONS)


def test_the_limit_counts_photos_picked_by_any_guest_once() -> None:
    album = Album.create(uuid4(), "W", "A", "a@x.io", uuid4(), [], 2, uuid4())
    run(album, "sync")
    album.update_photos([(f"{i}.jpg", f"{i}.jpg") for i in range(4)])
    run(album, "share")
    ids = [photo_id_for(album.id, f"{i}.jpg") for i in range(4)]
    album.select(ids[0], "anna")
    album.select(ids[0], "ben")  # the same photo: still one of two
    album.select(ids[1], "ben")
    with pytest.raises(SelectionFull):
        album.select(ids[2], "anna")
    album.deselect(ids[1], "ben")
    album.select(ids[2], "anna")
    assert album.selected() == {ids[0], ids[2]}


def test_a_share_link_expires_and_dies_with_archiving() -> None:
    album = album_in("shared")
    now = datetime.now(UTC)
    album.share("nonce", "h", now + timedelta(minutes=1), True, "p")
    album.check_share("h", now)
    with pytest.raises(Exception, match="share link"):
        album.check_share("h", now + timedelta(minutes=2))
    with pytest.raises(Exception, match="share link"):
        album.check_share("other", now)
