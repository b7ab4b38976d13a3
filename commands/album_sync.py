"""The process manager between Storage and Photoflow: a finished folder sync updates its albums.

An album that asked for a sync (FullSyncStorage) waits in ``syncing``. When its folder's sync
has finished after that request, and Storage's file catalogue has caught up with it, the
album's photos are brought up to date from the catalogue and the album leaves ``syncing``,
only if the folder is the album's studio's (``AlbumCommands.update_photos`` checks it on the
write side): an album recorded on another studio's folder before references were checked stays
as it is, and none of that folder's file names are copied into it.
The manager acts on StorageFolderSyncCompleted as it arrives and also sweeps every few
seconds, so an album is never left behind by a missed message or a projection still catching
up.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

from commands.albums import AlbumCommands
from domains.errors import DomainError, NotFound

log = logging.getLogger(__name__)

AlbumsReady = Callable[[], Awaitable[list[tuple[UUID, UUID]]]]
"""(album id, folder id) of albums whose folder sync has finished and is fully catalogued."""
FolderFiles = Callable[[UUID], Awaitable[list[tuple[str, str]]]]
"""A folder's catalogue as (file id, name): Storage's read tables, through a port."""


class AlbumSyncManager:
    def __init__(self, albums: AlbumCommands, ready: AlbumsReady, files: FolderFiles) -> None:
        self._albums = albums
        self._ready = ready
        self._files = files
        self.updated = 0
        self._refused: set[UUID] = set()

    async def sweep(self) -> int:
        """Update every album whose sync can finish now; return how many were updated."""
        updated = 0
        for album_id, folder_id in await self._ready():
            try:
                await self._albums.update_photos(album_id, await self._files(folder_id))
            except NotFound as refused:  # its folder is gone or another studio's: say so once
                if album_id not in self._refused:
                    self._refused.add(album_id)
                    log.warning("album %s not updated after its sync: %s", album_id, refused)
                continue
            except DomainError as refused:  # it moved on (archived, synced again): leave it
                log.info("album %s not updated after its sync: %s", album_id, refused)
                continue
            updated += 1
        self.updated += updated
        return updated
