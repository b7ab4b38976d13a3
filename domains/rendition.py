"""Renditions: the thumbnails and previews made of a folder's photos, recorded batch by batch.

A rendition is keyed by its file's checksum (an unchanged file is never rendered twice, a rename
costs nothing), so the aggregate is not the rendition itself but one render batch of one folder:
created once, never changed, carrying which checksums became ready and which could not be
rendered. One small aggregate per batch keeps loading free (nothing ever replays a long stream)
and puts render progress on Kafka like a sync's progress.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domains.errors import InvalidValue

THUMBNAIL = "thumbnail"
PREVIEW = "preview"
KINDS: dict[str, int] = {THUMBNAIL: 400, PREVIEW: 2048}
"""Each rendition kind and the length of its long edge in pixels."""
MEDIA_TYPE = "image/jpeg"
KIND = re.compile(r"[a-z0-9-]{1,64}")
"""Any kind a store keeps: ``thumbnail``, ``preview``, a watermarked ``preview-wm-<hex>``."""


def rendition_key(checksum: str) -> str:
    """The checksum as a name: a provider's checksum is any text (an ETag with quotes, a
    ``size-mtime``), so files and keys are named by its SHA-256."""
    return hashlib.sha256(checksum.encode()).hexdigest()


def rendition_etag(checksum: str, kind: str) -> str:
    return f'"{rendition_key(checksum)[:32]}-{kind}"'


def checked_kind(kind: str) -> str:
    """The kind, or ``ValueError``: it becomes part of a path or an object key."""
    if not KIND.fullmatch(kind):
        raise ValueError(f"not a rendition kind: {kind!r}")
    return kind


class Renditions(Aggregate):
    """One render batch of a folder: what became ready, what failed (and why, in our words)."""

    class Made(Aggregate.Created):
        org_id: UUID
        folder_id: UUID
        ready: list[dict[str, Any]]
        """``{file_id, checksum, sizes: {kind: [width, height]}}`` per rendered file."""
        failed: list[dict[str, Any]]
        """``{file_id, checksum, reason}`` per file that could not be rendered."""

    @event(Made)
    def __init__(
        self,
        org_id: UUID,
        folder_id: UUID,
        ready: list[dict[str, Any]],
        failed: list[dict[str, Any]],
    ) -> None:
        self.org_id = org_id
        self.folder_id = folder_id
        self.ready = ready
        self.failed = failed

    @classmethod
    def record(
        cls,
        org_id: UUID,
        folder_id: UUID,
        ready: list[dict[str, Any]],
        failed: list[dict[str, Any]],
    ) -> Renditions:
        if not ready and not failed:
            raise InvalidValue("renditions", "a batch records at least one file")
        return cls(org_id=org_id, folder_id=folder_id, ready=ready, failed=failed)
