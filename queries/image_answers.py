"""How an image is answered over HTTP: strong ETags and 304, cache lifetimes, byte ranges.

Renditions are files of the rendition store, keyed by checksum, so their bytes never change:
the ``ETag`` is strong (the checksum's key and the kind) and ``If-None-Match`` answers 304. A
URL that carries ``?v=`` with the photo's current checksum names one content for ever and is
cached for a year, ``immutable``; any other must be revalidated (``no-cache``). Originals
answer ``Range`` (one range: 206 with ``Content-Range``; unsatisfiable: 416).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from domains.rendition import MEDIA_TYPE, rendition_etag, rendition_key
from infra.cloud.base import ProviderError
from infra.originals import FolderPlace, Originals
from infra.rendition_store import RenditionStore
from queries.problems import Problem, not_found

YEAR = 31_536_000
BINARY = {"type": "string", "format": "binary"}
RecordDownload = Callable[[UUID, UUID, str, str, list[UUID], str | None], Awaitable[object]]
"""(studio, album, kind: original|zip, scope: photo|selection|all, photos, guest)"""


class ImageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    v: str | None = Field(
        default=None,
        max_length=200,
        description="The photo's checksum (or the ETag's value): the URL is then cached for a "
        "year, immutable",
    )


class FileImageQuery(ImageQuery):
    folder_id: UUID | None = Field(
        default=None, description="The folder of the file (file ids are unique per folder)"
    )


@dataclass(frozen=True)
class FileRef:
    """A file as the read side knows it, and where its folder lives."""

    org_id: UUID
    folder_id: UUID
    file_id: str
    name: str
    mime_type: str
    checksum: str
    place: FolderPlace


FILE_SQL = (
    "SELECT f.org_id, f.folder_id, f.file_id, f.name, f.mime_type, f.checksum, "
    "d.provider, d.location "
    "FROM read.files f JOIN read.folders d ON d.folder_id = f.folder_id "
    "WHERE f.file_id = $1 AND ($2::uuid IS NULL OR f.folder_id = $2) LIMIT 10"
)
PHOTO_SQL = (
    "SELECT a.org_id, a.folder_id, f.file_id, f.name, f.mime_type, f.checksum, "
    "d.provider, d.location "
    "FROM read.album_photos p JOIN read.albums a ON a.album_id = p.album_id "
    "JOIN read.files f ON f.folder_id = a.folder_id AND f.file_id = p.file_id "
    "JOIN read.folders d ON d.folder_id = a.folder_id "
    "WHERE p.photo_id = $1 AND p.album_id = $2"
)


def file_ref(row: asyncpg.Record) -> FileRef:
    return FileRef(
        row["org_id"],
        row["folder_id"],
        row["file_id"],
        row["name"],
        row["mime_type"],
        row["checksum"],
        FolderPlace(row["provider"], row["location"], row["org_id"]),
    )


def not_rendered(kind: str) -> Problem:
    return Problem(
        404,
        "not-rendered",
        "Not rendered yet",
        f"The {kind} of this photo is not ready yet; try again in a moment",
    )


def downloads_off() -> Problem:
    return Problem(
        403,
        "downloads-off",
        "Downloads are off",
        "The photographer has not allowed downloads of originals on this link",
    )


def cache_control(query: ImageQuery, checksum: str, public: bool, kind: str = "") -> str:
    """Immutable for a year when ``?v=`` names this content: the checksum, its key, or (as
    the listed photos' URLs carry it) the rendition's ETag value."""
    scope = "public" if public else "private"
    names = {checksum, rendition_key(checksum)[:32]}
    if kind:
        names.add(rendition_etag(checksum, kind).strip('"'))
    if query.v is not None and query.v in names:
        return f"{scope}, max-age={YEAR}, immutable"
    return f"{scope}, no-cache"


def _matches(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match")
    if not wanted:
        return False
    # Only a tag the client holds: ``*`` (any representation) would be a 304 to someone who
    # has none of our bytes, and the document's statuses stay what a browser meets.
    return etag in (t.strip() for t in wanted.split(","))


async def rendition_answer(
    request: Request, store: RenditionStore, ref: FileRef, kind: str, cache: str
) -> Response:
    etag = store.etag(ref.checksum, kind)
    headers = {"ETag": etag, "Cache-Control": cache}
    if _matches(request, etag):
        return Response(status_code=304, headers=headers)
    data = await store.read(ref.checksum, kind)
    if data is None:
        raise not_rendered(kind)
    return Response(data, media_type=MEDIA_TYPE, headers=headers)


RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end exclusive)`` of a single-range ``Range`` header; None for the whole file.

    Several ranges, or a header we do not understand, get the whole file (RFC 9110 lets a
    server ignore Range); a range that starts beyond the end is a 416.
    """
    if not header:
        return None
    match = RANGE.fullmatch(header.strip())
    if match is None or (not match[1] and not match[2]):
        return None
    if not match[1]:  # the last N bytes
        length = int(match[2])
        if length == 0:
            raise _unsatisfiable(size)
        return max(0, size - length), size
    start = int(match[1])
    end = min(size, int(match[2]) + 1) if match[2] else size
    if start >= size or end <= start:
        raise _unsatisfiable(size)
    return start, end


def _unsatisfiable(size: int) -> Problem:
    return Problem(
        416,
        "range-not-satisfiable",
        "Range not satisfiable",
        f"The file has {size} bytes",
        headers={"Content-Range": f"bytes */{size}"},
    )


async def original_answer(
    request: Request,
    originals: Originals,
    ref: FileRef,
    cache: str,
    on_download: Callable[[], Awaitable[object]] | None = None,
) -> Response:
    etag = f'"{rendition_key(ref.checksum)[:32]}-original"'
    headers = {
        "ETag": etag,
        "Cache-Control": cache,
        "Accept-Ranges": "bytes",
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(ref.name)}",
    }
    if _matches(request, etag):
        return Response(status_code=304, headers=headers)
    try:
        original = await originals.open(ref.place, ref.file_id)
    except ProviderError:
        raise not_found(f"The original of {ref.name!r} cannot be read now") from None
    if_range = request.headers.get("if-range")
    wanted = None if if_range and if_range != etag else request.headers.get("range")
    span = byte_range(wanted, original.size)
    if on_download is not None and (span is None or span[0] == 0):
        await on_download()
    if span is None:
        headers["Content-Length"] = str(original.size)
        return StreamingResponse(original.chunks(), media_type=ref.mime_type, headers=headers)
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{original.size}"
    headers["Content-Length"] = str(end - start)
    return StreamingResponse(
        original.chunks(start, end), status_code=206, media_type=ref.mime_type, headers=headers
    )
