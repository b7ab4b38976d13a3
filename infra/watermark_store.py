"""Watermarks in the rendition store: uploaded PNGs, and the watermarked previews made of them.

Both are kept by content like every rendition. A watermarked preview is made on its first
request from the clean preview and kept under the kind ``preview-wm-<fingerprint>``: a new
watermark makes new previews, old ones are never served again, and no event has to invalidate
anything. Making one costs about 45 ms of CPU for a 2,048 px preview, so at most
``workers`` are made at once and the rest wait rather than starve the API's other requests.
"""

from __future__ import annotations

import asyncio
import hashlib

from commands.rendition_store import RenditionStore
from domains.rendition import PREVIEW
from domains.watermark import PNG_KIND, Watermark
from infra.watermarking import check_png, stamp


class StoredWatermarkImages:
    """The ``WatermarkImages`` port: PNGs kept in the rendition store under their SHA-256."""

    def __init__(self, store: RenditionStore) -> None:
        self._store = store

    async def keep(self, png: bytes) -> str:
        await asyncio.to_thread(check_png, png)
        image_id = hashlib.sha256(png).hexdigest()
        await self._store.write(image_id, PNG_KIND, png)
        return image_id

    async def exists(self, image_id: str) -> bool:
        return await self._store.read(image_id, PNG_KIND) is not None


class WatermarkedPreviews:
    """Client previews with the studio's watermark, made once per (photo content, watermark)."""

    def __init__(self, store: RenditionStore, workers: int = 2) -> None:
        self._store = store
        self._making = asyncio.Semaphore(workers)

    def etag(self, checksum: str, watermark: Watermark) -> str:
        return self._store.etag(checksum, watermark.preview_kind)

    async def read(self, checksum: str, watermark: Watermark) -> bytes | None:
        """The watermarked preview; None while the clean preview is not rendered yet."""
        kind = watermark.preview_kind
        kept = await self._store.read(checksum, kind)
        if kept is not None:
            return kept
        clean = await self._store.read(checksum, PREVIEW)
        if clean is None:
            return None
        png = None
        if watermark.image_id is not None:
            png = await self._store.read(watermark.image_id, PNG_KIND)
        async with self._making:
            made = await asyncio.to_thread(stamp, clean, watermark, png)
        await self._store.write(checksum, kind, made)
        return made
