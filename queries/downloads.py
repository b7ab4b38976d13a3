"""A share link's whole selection, or whole album, as one ZIP that streams.

Never held in memory: ``zipfile`` writes to a sink that hands each written piece on to the
response (``ZIP_STORED``: photos are compressed already, and storing costs only a CRC), and
each original is read in chunks as the client takes them, so memory stays at a chunk or two
whatever the album's size. The sizes and CRCs follow each entry in a data descriptor (the
stream cannot seek back), which every common unzipper reads; ZIP64 is on, so albums beyond
4 GB work. A photo whose original cannot be read any more is left out (a ZIP already under
way cannot become an error); the download is recorded before the first byte.

``scope=selection`` is the photos any guest of the link picked; ``scope=all`` every photo.
With the link's downloads off the answer is 403 ``/downloads-off``, like single originals.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

import asyncpg
from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from infra.cloud.base import ProviderError
from infra.originals import Originals
from queries.album_answers import guest_name
from queries.bodies import read_query
from queries.image_answers import BINARY, RecordDownload, downloads_off, file_ref
from queries.images import ImageParts, ShareAccess, image_endpoints
from queries.ports import AlbumCommandsPort, EventHistoryPort
from queries.problems import not_found
from queries.routing import Endpoint

log = logging.getLogger(__name__)

PHOTOS_SQL = (
    "SELECT p.photo_id, a.org_id, a.folder_id, f.file_id, f.name, f.mime_type, f.checksum, "
    "d.provider, d.location "
    "FROM read.album_photos p JOIN read.albums a ON a.album_id = p.album_id "
    "JOIN read.files f ON f.folder_id = a.folder_id AND f.file_id = p.file_id "
    "JOIN read.folders d ON d.folder_id = a.folder_id "
    "WHERE p.album_id = $1 AND ($2 = 'all' OR cardinality(p.picked_by) > 0) "
    "ORDER BY p.name, p.photo_id"
)


class DownloadQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scope: Literal["selection", "all"] = "all"


class _Sink:
    """A write-only, unseekable file for ``zipfile``: it keeps what was written until taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.written = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self.written += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _unique(name: str, used: set[str]) -> str:
    stem, dot, extension = name.rpartition(".")
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{stem} ({n}).{extension}" if dot else f"{name} ({n})"
    used.add(candidate)
    return candidate


async def zip_stream(originals: Originals, rows: list[asyncpg.Record]) -> AsyncIterator[bytes]:
    sink = _Sink()
    used: set[str] = set()
    stamp = datetime.now(UTC)
    now = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for row in rows:
            ref = file_ref(row)
            try:
                original = await originals.open(ref.place, ref.file_id)
            except ProviderError as error:
                log.warning("ZIP: %s left out: %s", ref.file_id, error.reason)
                continue
            info = zipfile.ZipInfo(_unique(ref.name, used), date_time=now)
            info.compress_type = zipfile.ZIP_STORED
            with archive.open(info, "w", force_zip64=True) as entry:
                async for chunk in original.chunks():
                    entry.write(chunk)
                    yield sink.take()
            yield sink.take()
    yield sink.take()


def download_endpoints(
    pool: asyncpg.Pool,
    originals: Originals,
    albums: AlbumCommandsPort,
    record_download: RecordDownload,
) -> list[Endpoint]:
    share = ShareAccess(albums, pool)

    async def shared_download(request: Request) -> Response:
        query = read_query(request, DownloadQuery)
        link = await share.link(request)
        if not link.allow_download:
            raise downloads_off()
        async with pool.acquire() as conn:
            rows = await conn.fetch(PHOTOS_SQL, link.album_id, query.scope)
        if not rows:
            raise not_found(f"The album has no photos in scope {query.scope!r}")
        await record_download(
            rows[0]["org_id"],
            link.album_id,
            "zip",
            query.scope,
            [r["photo_id"] for r in rows],
            guest_name(request),
        )
        name = f"album-{str(link.album_id)[:8]}-{query.scope}.zip"
        return StreamingResponse(
            zip_stream(originals, list(rows)),
            media_type="application/zip",
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                "Cache-Control": "no-store",
            },
        )

    return [
        Endpoint(
            "GET",
            "/api/share/{share_token}/download",
            shared_download,
            "The selection (any guest's picks) or every photo as one ZIP of originals, "
            "streamed; 403 /downloads-off unless the link allows downloads; recorded",
            "downloads",
            query=DownloadQuery,
            authenticated=False,
            errors=(403, 404, 410, 422),
            content={"application/zip": BINARY},
            headers={"X-Guest": {"schema": {"type": "string"}}},
            response_headers={"Content-Disposition": "attachment, with the ZIP's name"},
        )
    ]


def picture_endpoints(
    parts: ImageParts,
    pool: asyncpg.Pool,
    albums: AlbumCommandsPort,
    history: EventHistoryPort | None = None,
) -> list[Endpoint]:
    """Images for members and share links, and the share link's ZIP download."""
    return [
        *image_endpoints(
            pool,
            parts.store,
            parts.originals,
            albums,
            parts.record_download,
            history,
            parts.watermarked,
        ),
        *download_endpoints(pool, parts.originals, albums, parts.record_download),
    ]
