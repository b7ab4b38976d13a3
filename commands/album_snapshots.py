"""Album snapshots: every few hundred versions (more in a large album), its state is stored whole.

Loading an album at a past version (an auditor's "state as of") replays its events from the
latest snapshot at or before that version instead of from its creation, so a 15,000-photo
album with thousands of picks answers in well under a second. Snapshots are taken after a
write has answered, in a thread, from the event store (never from the in-memory aggregate a
command may still be changing); a snapshot that fails is logged and the next write tries
again: a missing snapshot only makes a replay longer.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

from eventsourcing.application import Application

from domains.album import Album
from domains.album_state import AlbumSnapshot

log = logging.getLogger(__name__)

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


def take_snapshot(app: Application[UUID], album_id: UUID, version: int) -> None:
    """Store the album's state at ``version`` (replayed from its latest earlier snapshot)."""
    assert app.snapshots is not None, "the albums application keeps snapshots"
    album: Album = app.repository.get(album_id, version=version)
    app.snapshots.put([AlbumSnapshot.take(album)])


class AlbumSnapshots:
    def __init__(self, app: Application[UUID], every: int = EVERY) -> None:
        self._app = app
        self._every = every
        self._taken: dict[UUID, int] = {}
        self._running: set[asyncio.Task[None]] = set()

    def written(self, album_id: UUID, version: int, photos: int = 0) -> None:
        """An album of ``photos`` photos reached ``version``: snapshot it if the last one is
        far enough behind."""
        every = max(self._every, snapshot_interval(photos))
        if version - self._taken.get(album_id, 0) < every:
            return
        self._taken[album_id] = version
        task = asyncio.create_task(self._take(album_id, version))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _take(self, album_id: UUID, version: int) -> None:
        try:
            await asyncio.to_thread(take_snapshot, self._app, album_id, version)
        except Exception as error:
            log.warning("album %s not snapshotted at version %s: %s", album_id, version, error)
            self._taken.pop(album_id, None)
