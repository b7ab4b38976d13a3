"""How an album command learns that its actor may run it, from sources consistent with writes.

A member's role comes from the Organization aggregate (``StudioRoles``, an adapter over the
organization application's event store), never from ``read.memberships``: a command right
after a studio's or an album's create must not wait for a projection. A guest proves itself
with the share link, whose secret's hash the album itself records.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Protocol
from uuid import UUID

from domains.errors import NotFound


class FolderOwners(Protocol):
    """The Storage context, asked which studio a folder belongs to (its write model)."""

    async def owner_of(self, folder_id: UUID) -> UUID | None:
        """The folder's studio, or None when there is no such folder."""
        ...


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def share_token(key: bytes, album_id: UUID, nonce: str) -> str:
    """The client's link token: ``<album>.<secret>``, the secret an HMAC of album and nonce.

    Only its hash is recorded; the Sender rebuilds it from the Shared event's nonce and the
    installation's link key to put it in the delivery email.
    """
    mac = hmac.new(key, f"share:{album_id}:{nonce}".encode(), hashlib.sha256).digest()
    return f"{album_id}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def parse_share_token(token: str) -> tuple[UUID, str]:
    """The album a token names and the hash to compare with the album's; NotFound if garbled."""
    album, _, secret = token.partition(".")
    try:
        return UUID(album), secret_digest(secret)
    except ValueError:
        raise NotFound("Album", "share link") from None
