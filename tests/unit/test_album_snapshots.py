"""How often an album is snapshotted, and which albums the snapshot worker finds due."""

from uuid import uuid4

from commands.album_snapshots import EVERY, SnapshotSchedule, snapshot_interval


def test_a_small_album_is_snapshotted_every_500_versions() -> None:
    assert snapshot_interval(0) == snapshot_interval(1_000) == EVERY == 500


def test_a_large_album_waits_half_its_photo_count_between_snapshots() -> None:
    # 100 clients picking in a 15,000-photo album reach 500 versions in under a second
    assert snapshot_interval(15_000) == 7_500
    assert snapshot_interval(2_001) == 1_000


def test_an_album_is_due_once_it_is_an_interval_past_its_latest_snapshot() -> None:
    schedule, album = SnapshotSchedule(), uuid4()
    assert not schedule.knows(album)
    schedule.learn(album, 0)
    assert schedule.knows(album)
    schedule.reached(album, 499)
    assert schedule.due() == []
    schedule.reached(album, 500)
    assert schedule.due() == [(album, 500)]
    schedule.reached(album, 520)
    assert schedule.due() == [(album, 520)], "snapshotted at the highest version it reached"
    schedule.taken(album, 520, photos=10)
    assert schedule.due() == []


def test_the_latest_snapshot_in_the_store_counts_from_first_sight() -> None:
    schedule, album = SnapshotSchedule(), uuid4()
    schedule.learn(album, 7_000)  # a restart: the store already holds a snapshot at 7,000
    schedule.reached(album, 7_400)
    assert schedule.due() == []
    schedule.learn(album, 0)  # learnt once: a later answer does not forget what is known
    schedule.reached(album, 7_500)
    assert schedule.due() == [(album, 7_500)]


def test_a_large_album_waits_longer_once_its_photos_are_known() -> None:
    schedule, album = SnapshotSchedule(), uuid4()
    schedule.learn(album, 0)
    schedule.reached(album, 600)
    assert schedule.due() == [(album, 600)], "photos unknown: the small album's interval"
    schedule.taken(album, 600, photos=15_000)
    schedule.reached(album, 8_099)
    assert schedule.due() == []
    schedule.reached(album, 8_100)
    assert schedule.due() == [(album, 8_100)]


def test_duplicates_and_old_messages_never_move_an_album_back() -> None:
    schedule, album, other = SnapshotSchedule(), uuid4(), uuid4()
    schedule.learn(album, 0)
    schedule.learn(other, 0)
    schedule.reached(album, 900)
    schedule.reached(album, 300)  # re-read after a restart
    schedule.reached(other, 10)
    assert schedule.due() == [(album, 900)]
    schedule.taken(album, 900, photos=0)
    schedule.taken(album, 900, photos=0)  # taken twice: harmless
    schedule.reached(album, 900)
    assert schedule.due() == []


def test_a_failed_snapshot_stays_due() -> None:
    schedule, album = SnapshotSchedule(), uuid4()
    schedule.learn(album, 0)
    schedule.reached(album, 500)
    assert schedule.due() == [(album, 500)]
    # the worker could not take it: nothing was recorded, so the album is due next time
    schedule.reached(album, 501)
    assert schedule.due() == [(album, 501)]
