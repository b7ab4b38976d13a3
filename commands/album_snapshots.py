"""Album snapshots: every few hundred versions, an album's state is stored whole.

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
"""Versions between two snapshots of one album."""


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

    def written(self, album_id: UUID, version: int) -> None:
        """An album reached ``version``: snapshot it if the last one is ``every`` behind."""
        if version - self._taken.get(album_id, 0) < self._every:
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
