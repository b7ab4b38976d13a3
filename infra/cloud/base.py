"""The one interface every storage provider speaks, and the errors it raises.

A sync worker only needs two things from a provider: the full listing of a folder, page by
page as it arrives (so 100,000 files never sit in memory at once), and, where the provider has a
change feed, the changes since a cursor. Everything provider-specific stays behind this protocol.
"""

from __future__ import annotations

import posixpath
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Protocol

from domains.files import Changes, FileInfo

PAGE_SIZE = 1000

MIME_BY_EXTENSION: dict[str, str] = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpe": "image/jpeg",
    ".png": "image/png",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".webp": "image/webp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".dng": "image/x-adobe-dng",
    ".cr2": "image/x-canon-cr2",
    ".cr3": "image/x-canon-cr3",
    ".nef": "image/x-nikon-nef",
    ".arw": "image/x-sony-arw",
    ".raf": "image/x-fuji-raf",
}


class ProviderError(Exception):
    """A provider could not answer; ``retryable`` tells a sync whether trying later may help."""

    def __init__(self, kind: str, reason: str, retryable: bool) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason
        self.retryable = retryable


class LocationRefused(ProviderError):
    """The location is malformed or not allowed (outside the local roots): a 422, never retried."""

    def __init__(self, kind: str, location: str, reason: str) -> None:
        super().__init__(kind, f"{location!r} {reason}", retryable=False)
        self.location = location


class NoChangeFeed(ProviderError):
    """The provider cannot list changes: the caller must run a full sync instead."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind, "has no change feed; run a full sync", retryable=False)


class StorageProvider(Protocol):
    """A source of photo files: a local directory, a Google Drive folder, an S3 prefix."""

    kind: str

    def check_location(self, location: str) -> str:
        """The location in canonical form, or ``LocationRefused``; touches no network."""
        ...

    def pages(self, location: str) -> AsyncIterator[list[FileInfo]]:
        """Every image below the location, recursively, in pages as they arrive (never empty)."""
        ...

    async def start_cursor(self, location: str) -> str | None:
        """Where the change feed stands now, taken before a full sync; None without a feed."""
        ...

    def changes(self, location: str, cursor: str) -> AsyncIterator[Changes]:
        """Changes below the location since ``cursor``; ``NoChangeFeed`` without a feed."""
        ...


def mime_for_name(name: str) -> str | None:
    """The image type an extension stands for, or None for anything that is not a photo."""
    return MIME_BY_EXTENSION.get(posixpath.splitext(name)[1].lower())


def exif_datetime(value: str | None, offset: str | None = None) -> datetime | None:
    """An EXIF 'YYYY:MM:DD HH:MM:SS' time; without an offset the camera's clock is taken as UTC.

    Cameras rarely record their time zone, and a naive datetime next to aware ones breaks every
    comparison downstream, so all providers read capture times the same way.
    """
    text = (value or "").strip().rstrip("\x00")
    if len(text) < 19 or text[4] != ":" or text[7] != ":":
        return None
    try:  # by hand: strptime costs ten times more, and Drive sends one per file
        taken = datetime(
            int(text[0:4]),
            int(text[5:7]),
            int(text[8:10]),
            int(text[11:13]),
            int(text[14:16]),
            int(text[17:19]),
        )
    except ValueError:
        return None
    if offset:
        try:
            return datetime.fromisoformat(f"{taken.isoformat()}{offset.strip()}")
        except ValueError:
            pass
    return taken.replace(tzinfo=UTC)
