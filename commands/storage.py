"""The Storage context's application: folders and the requests to sync them.

The sync itself runs in the sync worker (``commands.folder_sync``); these use cases only record
that a folder exists and that a sync should start, so the HTTP answer is immediate (202).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID, uuid4

from eventsourcing.application import Application

from commands.group_commit import Batch, GroupCommitter, Written
from domains.errors import NotFound
from domains.folder import Folder, SyncRunning


class StorageApplication(Application[UUID]):
    """Events of the Storage context in table ``storage_events``; folders are snapshotted."""

    name = "Storage"
    snapshotting_intervals: ClassVar[dict[Any, int]] = {Folder: 50}


@dataclass(frozen=True)
class SyncRequested:
    written: Written | None
    sync_id: UUID
    joined: bool
    """True when a sync was already running and the request joined it."""


class StorageCommands:
    def __init__(self, committer: GroupCommitter) -> None:
        self._committer = committer

    async def register(
        self, org_id: UUID, provider: str, location: str, name: str, actor_id: UUID
    ) -> Written:
        return await self._committer.execute(
            lambda batch: batch.add(Folder.register(org_id, provider, location, name, actor_id))
        )

    async def start_sync(
        self,
        folder_id: UUID,
        mode: str,
        actor: str,
        *,
        for_org: UUID | None = None,
        expected_version: int | None = None,
    ) -> SyncRequested:
        """Record that the folder's sync should start (or join the running one).

        ``for_org`` is the studio that asks, when the request comes from another context (an
        album's FullSyncStorage): a folder of another studio is then NotFound, exactly like a
        folder that does not exist, and nothing is recorded on it.
        """
        sync_id = uuid4()

        def decide(batch: Batch) -> Folder:
            folder = batch.get(Folder, folder_id, expected_version)
            if for_org is not None and folder.org_id != for_org:
                raise NotFound("Folder", folder_id)
            folder.start_sync(sync_id, mode, actor)
            return folder

        try:
            written = await self._committer.execute(decide)
        except SyncRunning as running:
            return SyncRequested(None, running.sync_id, joined=True)
        return SyncRequested(written, sync_id, joined=False)
