"""What decides whether a share link opens its album, as a value that can be kept in a cache.

The album aggregate owns these facts; ``ShareLinkFacts`` is their copy at one version, so the
check a share link's every image request makes can run on a cached copy instead of loading
the album (see ``commands.share_links``). The rule lives here once, for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domains.album_workflow import ShareArchived, ShareExpired
from domains.errors import NotFound


@dataclass(frozen=True)
class ShareLinkFacts:
    album_id: UUID
    org_id: UUID
    token_hash: str | None
    """The current link's secret, hashed; None when the album has no link (never, or revoked)."""
    expires_at: datetime | None
    archived: bool
    allow_download: bool
    watermark: bool

    def open(self, token_hash: str, now: datetime) -> None:
        """The link opens the album only while it is valid.

        A wrong or revoked link names nothing (NotFound); a link that was valid says why it is
        not any more (archived, expired), so the client's page can tell the client.
        """
        if self.token_hash is None or token_hash != self.token_hash:
            raise NotFound("Album", "share link")
        if self.archived:
            raise ShareArchived()
        if self.expires_at and now >= self.expires_at:
            raise ShareExpired()
