"""An album's snapshot and audit state: every photo, pick per guest and rating, and back."""

from __future__ import annotations

from eventsourcing.application import Application

from domains.album_state import AlbumSnapshot, audit_state
from tests.unit.test_album_workflow import KEY, NOW, album_in


def test_a_snapshot_stored_and_read_back_is_the_same_album() -> None:
    album = album_in("shared")
    first, second = sorted(album.photos)
    album.select(first, "Anna", key=KEY)
    album.select(first, "Ben", key=KEY)
    album.rate(second, "Anna", 4, "red", key=KEY)
    album.share("n2", "h2", NOW.replace(year=NOW.year + 1), True, "p", NOW, watermark=True)
    app: Application[object] = Application()
    stored = app.mapper.to_stored_event(AlbumSnapshot.take(album))
    restored = app.mapper.to_domain_event(stored).mutate(None)  # type: ignore[attr-defined]
    assert vars(restored) == vars(album) | {"_pending_events": []}


def test_the_audit_state_shows_photos_with_picks_per_guest_and_hides_the_link_secret() -> None:
    album = album_in("shared")
    first, second = sorted(album.photos)
    album.select(first, "Ben", key=KEY)
    album.select(first, "Anna", key=KEY)
    album.rate(second, "Anna", 5, None, key=KEY)
    state = audit_state(album)
    assert "share_token_hash" not in state
    rows = {row["photo_id"]: row for row in state["photos"]}
    assert rows[first]["picked_by"] == sorted(album.photos[first].picked_by)
    assert {KEY.seal("Anna"), KEY.seal("Ben")} <= set(rows[first]["picked_by"])
    assert rows[second]["ratings"] == {KEY.seal("Anna"): {"rating": 5, "color": None}}
    assert state["selection_count"] == len(album.selected())
