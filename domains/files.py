"""What a storage provider tells us about one photo file: a plain value, the same for all.

Providers (``infra/cloud``) produce these; the Folder aggregate records them in batches; the
catalogue read table shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

IMAGE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/heic",
        "image/heif",
        "image/webp",
        "image/tiff",
        "image/x-adobe-dng",
        "image/x-canon-cr2",
        "image/x-canon-cr3",
        "image/x-nikon-nef",
        "image/x-sony-arw",
        "image/x-fuji-raf",
    }
)


@dataclass(frozen=True)
class FileInfo:
    """One image file as its provider describes it.

    ``file_id`` is the provider's stable id (a Drive file id, an S3 key, a path relative to a
    local root): a rename or move keeps it on Drive, and is a removal plus a new file elsewhere.
    ``checksum`` changes when the content changes (md5 on Drive, the ETag on S3, size and mtime
    on disk); ``path`` is the file's folder path below the synced folder, '' at the top.
    """

    file_id: str
    name: str
    path: str
    mime_type: str
    size: int
    checksum: str
    modified_at: datetime
    width: int | None = None
    height: int | None = None
    taken_at: datetime | None = None


@dataclass(frozen=True)
class Changes:
    """One page of an incremental listing: files added or changed, ids removed, and where next."""

    changed: tuple[FileInfo, ...]
    removed: tuple[str, ...]
    next_cursor: str | None
    """The cursor to resume from; None until the last page, which gives the new start cursor."""
