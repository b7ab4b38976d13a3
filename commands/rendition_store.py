"""Where renditions live, as the render use case and the image routes see it (a port).

A rendition is keyed by its file's checksum and a kind, never by a file id or name: an
unchanged file is never rendered twice, a rename or a second album on the same folder costs
nothing. A kind is any ``[a-z0-9-]{1,64}`` (``thumbnail``, ``preview``, a watermarked
``preview-wm-<hex>``); anything else is refused before it reaches a path or a key. The bytes of
a (checksum, kind) never change once written, so the ETag is strong and computed without a
read. Adapters (``infra.rendition_store``): a directory, or an S3 bucket.
"""

from __future__ import annotations

from typing import Protocol

from domains.rendition import MEDIA_TYPE, checked_kind, rendition_etag, rendition_key

__all__ = ["MEDIA_TYPE", "RenditionStore", "checked_kind", "rendition_etag", "rendition_key"]


class RenditionStore(Protocol):
    """Thumbnails and previews by (checksum, kind)."""

    async def read(self, checksum: str, kind: str) -> bytes | None:
        """The rendition's bytes; None when it was never written."""
        ...

    async def write(self, checksum: str, kind: str, data: bytes) -> None:
        """Store the bytes; a reader sees either nothing or all of them, never half."""
        ...

    async def has_all(self, checksum: str) -> bool:
        """Whether every kind of ``domains.rendition.KINDS`` is stored for this checksum."""
        ...

    def etag(self, checksum: str, kind: str) -> str:
        """A strong validator of the rendition, without reading it."""
        ...
