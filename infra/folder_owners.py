"""Photoflow's question to Storage, answered from Storage's write model: whose folder is this?

An album's folder must belong to the album's studio. The answer comes from the Folder
aggregate's first event in Storage's event store, never from a read table: read tables lag
and can be rebuilt, and a reference check that trusts them lets a write through on a stale or
missing row. A folder's studio is set when it is registered and never changes, so the
registration alone answers, however many sync events (or snapshots) follow it.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from domains.folder import Folder


class StorageFolderOwners:
    """``commands.albums.FolderOwners`` over the Storage application."""

    def __init__(self, storage: Application[UUID]) -> None:
        self._storage = storage

    async def owner_of(self, folder_id: UUID) -> UUID | None:
        return await asyncio.to_thread(self._owner_of, folder_id)

    def _owner_of(self, folder_id: UUID) -> UUID | None:
        try:
            folder: object = self._storage.repository.get(folder_id, version=1)
        except AggregateNotFoundError:
            return None
        return folder.org_id if isinstance(folder, Folder) else None
