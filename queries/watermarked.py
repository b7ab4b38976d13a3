"""A share link's preview with the studio's watermark on it.

Only previews on links shared with ``watermark`` on carry it; thumbnails stay clean (at 400 px
a mark would hide the photo, and nobody steals a thumbnail), and so do originals, which a
photographer hands out on purpose with ``allow_download``. The watermark is read from
``read.orgs`` on each request, so a changed watermark reaches every link at once. Its ETag
names the watermark too, and ``?v=`` makes the answer immutable only when it is that ETag's
value: a URL cached for a year must never outlive the watermark it shows.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

import asyncpg
import orjson
from starlette.requests import Request
from starlette.responses import Response

from domains.rendition import MEDIA_TYPE
from domains.watermark import Watermark
from queries.image_answers import FileRef, ImageQuery, not_rendered

YEAR = 31_536_000


class WatermarkedPreviews(Protocol):
    def etag(self, checksum: str, watermark: Watermark) -> str: ...

    async def read(self, checksum: str, watermark: Watermark) -> bytes | None: ...


async def studio_watermark(pool: asyncpg.Pool, org_id: UUID) -> Watermark | None:
    async with pool.acquire() as conn:
        text = await conn.fetchval(
            "SELECT watermark::text FROM read.orgs WHERE org_id = $1", org_id
        )
    return Watermark.from_dict(orjson.loads(text)) if text else None


async def watermarked_answer(
    request: Request,
    previews: WatermarkedPreviews,
    ref: FileRef,
    watermark: Watermark,
    query: ImageQuery,
) -> Response:
    etag = previews.etag(ref.checksum, watermark)
    immutable = query.v is not None and query.v == etag.strip('"')
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={YEAR}, immutable" if immutable else "public, no-cache",
    }
    if etag in (t.strip() for t in request.headers.get("if-none-match", "").split(",")):
        return Response(status_code=304, headers=headers)
    data = await previews.read(ref.checksum, watermark)
    if data is None:
        raise not_rendered("preview")
    return Response(data, media_type=MEDIA_TYPE, headers=headers)
