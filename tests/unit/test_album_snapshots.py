"""How often an album is snapshotted: in proportion to what a snapshot of it costs."""

from commands.album_snapshots import EVERY, snapshot_interval


def test_a_small_album_is_snapshotted_every_500_versions() -> None:
    assert snapshot_interval(0) == snapshot_interval(1_000) == EVERY == 500


def test_a_large_album_waits_half_its_photo_count_between_snapshots() -> None:
    # 100 clients picking in a 15,000-photo album reach 500 versions in under a second
    assert snapshot_interval(15_000) == 7_500
    assert snapshot_interval(2_001) == 1_000
