"""Recording a client's download of originals (one photo or a ZIP) as a Download event.

The downloading guest's name is personal data of the album's client: it is recorded sealed
with the client's key (``domains.personal_data``), and not at all once the client is forgotten.
"""

from __future__ import annotations

from uuid import UUID

from commands.client_keys import ClientKeys
from commands.group_commit import GroupCommitter, Written
from domains.download import Download


class DownloadCommands:
    def __init__(self, committer: GroupCommitter, keys: ClientKeys | None = None) -> None:
        self._committer = committer
        self._keys = keys

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
        if guest is not None and self._keys is not None:
            key = await self._keys.key_to_seal(album)
            guest = key.seal(guest) if key is not None else None
        return await self._committer.execute(
            lambda batch: batch.add(Download.serve(org, album, kind, scope, photos, guest))
        )
