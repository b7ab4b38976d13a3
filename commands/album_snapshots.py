"""Album snapshots: every few hundred versions (more in a large album), its state is stored whole.

Loading an album at a past version (an auditor's "state as of") replays its events from the
latest snapshot at or before that version instead of from its creation, so a 15,000-photo
album with thousands of picks answers in well under a second.

Snapshots are taken by a worker (``broker.album_snapshot_consumer``), never on the API's
command path: a 15,000-photo album's snapshot is about half a second of CPU, and taken in the
API process (in a thread, holding the GIL) it was the picks' p99 tail (``make bench albums``).
The worker follows the albums topic, which says only which album reached which version;
``SnapshotSchedule`` decides from that which albums are due, and ``take_snapshot`` stores one
from the event store. A snapshot that fails is simply due again later: a missing snapshot only
makes a replay longer.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from eventsourcing.application import Application

from domains.album import Album
from domains.album_state import AlbumSnapshot

EVERY = 500
"""Versions between two snapshots of a small album."""


def snapshot_interval(photos: int) -> int:
    """Versions between two snapshots of an album of ``photos`` photos.

    A snapshot costs in proportion to the photos it holds (a 15,000-photo album's takes about
    half a second of CPU), a replay in proportion to the events after it (a pick replays in tens
    of microseconds). Every 500 versions, 100 clients picking in one large album spent half the
    API's CPU on snapshots (py-spy on ``make bench albums``); one every ``photos / 2`` versions
    keeps that to a few per cent, and a replay after it still well under a second.
    """
    return max(EVERY, photos // 2)


def take_snapshot(app: Application[UUID], album_id: UUID, version: int) -> int:
    """Store the album's state at ``version`` (replayed from its latest earlier snapshot).

    Returns the album's photo count, which sets how long until its next snapshot. The album
    is read from the event store at that version (never from a cache a command may be
    changing), so a snapshot taken twice at one version is the same row, and harmless.
    """
    assert app.snapshots is not None, "the albums application keeps snapshots"
    album: Album = app.repository.get(album_id, version=version)
    app.snapshots.put([AlbumSnapshot.take(album)])
    return len(album.photos)


def latest_snapshot_version(app: Application[UUID], album_id: UUID) -> int:
    """The version of the album's latest snapshot, 0 if it has none.

    Read from the recorder, so the snapshot's state (megabytes for a large album) is not
    decoded just to learn its version.
    """
    assert app.snapshots is not None, "the albums application keeps snapshots"
    stored = app.snapshots.recorder.select_events(album_id, desc=True, limit=1)
    return stored[0].originator_version if stored else 0


@dataclass(slots=True)
class _Album:
    """What the schedule keeps of each album it has seen: about 200 bytes with its key."""

    snapshot: int
    """The version of its latest snapshot (0: none)."""
    reached: int
    """The highest version the topic said it reached."""
    photos: int = 0
    """Its photo count when last loaded (0 until then: snapshotted at the small interval)."""


class SnapshotSchedule:
    """Which albums are due a snapshot, from the versions they reached: pure bookkeeping.

    The worker tells it, for each album it sees, the latest snapshot's version on first sight
    (``learn``), every version the topic says the album reached (``reached``) and each snapshot
    it took (``taken``); ``due`` then names the albums whose version is ``snapshot_interval``
    past their latest snapshot, with the version to take it at. Messages may come twice or out
    of order (a restart re-reads from the last committed offset): a version never goes back.
    """

    def __init__(self) -> None:
        self._albums: dict[UUID, _Album] = {}

    def knows(self, album_id: UUID) -> bool:
        """Whether the album's latest snapshot version is known (else ``learn`` it first)."""
        return album_id in self._albums

    def learn(self, album_id: UUID, snapshot_version: int) -> None:
        """First sight of an album: its latest snapshot, as the snapshot store says."""
        if album_id not in self._albums:
            self._albums[album_id] = _Album(snapshot_version, snapshot_version)

    def reached(self, album_id: UUID, version: int) -> None:
        """The topic says the album reached ``version`` (call ``learn`` first)."""
        album = self._albums[album_id]
        album.reached = max(album.reached, version)

    def due(self) -> list[tuple[UUID, int]]:
        """The albums to snapshot now, each with the version to snapshot it at."""
        return [
            (album_id, album.reached)
            for album_id, album in self._albums.items()
            if album.reached - album.snapshot >= snapshot_interval(album.photos)
        ]

    def taken(self, album_id: UUID, version: int, photos: int) -> None:
        """A snapshot of the album at ``version`` is stored; it holds ``photos`` photos."""
        album = self._albums[album_id]
        album.snapshot = max(album.snapshot, version)
        album.reached = max(album.reached, version)
        album.photos = photos
