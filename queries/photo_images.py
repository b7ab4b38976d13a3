"""Where a photo's thumbnail and preview are, for the page that lists it.

Each listed photo carries its images' URLs with ``?v=`` set to the ETag's value, so a browser
caches them for a year (``immutable``) and a changed photo (a new checksum) or a new watermark
is a new URL: a 15,000-photo grid revalidates nothing. Width and height let a grid lay the
photos out before their bytes arrive. A photo not rendered yet says so (``state``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import asyncpg
from pydantic import BaseModel, Field

from domains.rendition import PREVIEW, THUMBNAIL, rendition_etag

IMAGE_COLUMNS = (
    "f.checksum, r.state AS rendition_state, r.thumbnail_width, r.thumbnail_height,"
    " r.preview_width, r.preview_height"
)
"""Select these with ``read.files f`` and ``read.renditions r`` joined to the photos."""


class Image(BaseModel):
    url: str = Field(description="Cached for a year: ?v= names this content.")
    width: int | None
    height: int | None


class PhotoImages(BaseModel):
    state: Literal["ready", "failed", "pending"] = Field(
        description="pending: not rendered yet (its URLs answer 404 /not-rendered); failed: "
        "the file could not be rendered (not an image, damaged)."
    )
    thumbnail: Image | None
    preview: Image | None


@dataclass(frozen=True)
class ImageLinks:
    """How one kind of caller reaches a photo's images: ``path`` is the URL before the kind."""

    path: Callable[[asyncpg.Record], str]
    query: Callable[[asyncpg.Record], str] = lambda _: ""
    preview_kind: str = PREVIEW
    """``preview-wm-<fingerprint>`` on a watermarked share link."""

    def of(self, row: asyncpg.Record) -> dict[str, Any]:
        state = row["rendition_state"] or "pending"
        if state != "ready" or row["checksum"] is None:
            return {"state": state, "thumbnail": None, "preview": None}
        return {
            "state": state,
            "thumbnail": self._image(row, THUMBNAIL, THUMBNAIL),
            "preview": self._image(row, PREVIEW, self.preview_kind),
        }

    def _image(self, row: asyncpg.Record, kind: str, stored_as: str) -> dict[str, Any]:
        version = rendition_etag(row["checksum"], stored_as).strip('"')
        return {
            "url": f"{self.path(row)}/{kind}?{self.query(row)}v={version}",
            "width": row[f"{kind}_width"],
            "height": row[f"{kind}_height"],
        }


def member_links() -> ImageLinks:
    """``/api/storage/files/{file_id}/...?folder_id=``: a file id is unique in its folder only."""
    return ImageLinks(
        path=lambda row: f"/api/storage/files/{quote(row['file_id'], safe='/')}",
        query=lambda row: f"folder_id={row['folder_id']}&",
    )


def share_links(token: str, preview_kind: str = PREVIEW) -> ImageLinks:
    return ImageLinks(
        path=lambda row: f"/api/share/{quote(token, safe='')}/photos/{row['photo_id']}",
        preview_kind=preview_kind,
    )
