"""Recording a client's download of originals (one photo or a ZIP) as a Download event."""

from __future__ import annotations

from uuid import UUID

from commands.group_commit import GroupCommitter, Written
from domains.download import Download


class DownloadCommands:
    def __init__(self, committer: GroupCommitter) -> None:
        self._committer = committer

    async def record(
        self,
        org_id: UUID,
        album_id: UUID,
        kind: str,
        scope: str,
        photo_ids: list[UUID],
        guest: str | None,
    ) -> Written:
        # ids read from PostgreSQL are asyncpg's own UUID type, which the event store's
        # transcoder does not know: record plain ones
        org, album = UUID(str(org_id)), UUID(str(album_id))
        photos = [UUID(str(p)) for p in photo_ids]
        return await self._committer.execute(
            lambda batch: batch.add(Download.serve(org, album, kind, scope, photos, guest))
        )
