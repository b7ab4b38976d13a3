"""Photos people can look at: thumbnails, previews and originals, for members and share links.

Renditions are files of the rendition store, keyed by checksum, so their bytes never change:
the ``ETag`` is strong (the checksum's key and the kind) and ``If-None-Match`` answers 304.
The URLs themselves name a file or a photo, not its content, so by default they must be
revalidated (``no-cache``); a URL that also carries ``?v=`` with the photo's current checksum
(or the ETag's value) names one content for ever and is cached for a year, ``immutable``
(``public`` on share links, ``private`` for members). An image not rendered yet is a 404 whose
problem type ends in ``/not-rendered``.

A member reaches a file through ``read.files``: a provider's file id (an S3 key, a path below
a local folder, with ``/`` in it) is unique within its folder only, so ``?folder_id=`` names the
folder; without it, a file id found in two of the caller's folders is a 409 asking for it.

A share link reaches only the photos of its own album (any other photo is 404, like an unknown
one). Originals on a link need the link's ``allow_download``: otherwise 403 with a problem type
ending in ``/downloads-off`` (403 rather than 404: the photo exists and the client sees it,
only the full-size file is withheld, and the page can say so). Originals answer ``Range``
(one range: 206 with ``Content-Range``; unsatisfiable: 416) and are recorded as a Download,
once per download (a request starting at byte 0), not per resumed chunk.
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

from domains.album_workflow import ShareGone
from domains.policies import Action
from domains.rendition import PREVIEW, THUMBNAIL
from infra.cloud.base import ProviderError
from infra.originals import FolderPlace, Originals
from infra.rendition_store import MEDIA_TYPE, RenditionStore, rendition_key
from queries.album_answers import gone, guest_name
from queries.auth import Callers
from queries.bodies import path_uuid, read_query
from queries.ports import AlbumCommandsPort, EventHistoryPort, OpenedShareResult
from queries.problems import Problem, not_found
from queries.routing import Endpoint, Handler

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


def cache_control(query: ImageQuery, checksum: str, public: bool) -> str:
    scope = "public" if public else "private"
    if query.v is not None and query.v in (checksum, rendition_key(checksum)[:32]):
        return f"{scope}, max-age={YEAR}, immutable"
    return f"{scope}, no-cache"


def _matches(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match")
    if not wanted:
        return False
    # Only a tag the client holds: ``*`` (any representation) would be a 304 to someone who
    # has none of our bytes, and the document's statuses stay what a browser meets.
    return etag in (t.strip() for t in wanted.split(","))


def rendition_answer(
    request: Request, store: RenditionStore, ref: FileRef, kind: str, cache: str
) -> Response:
    etag = store.etag(ref.checksum, kind)
    headers = {"ETag": etag, "Cache-Control": cache}
    if _matches(request, etag):
        return Response(status_code=304, headers=headers)
    try:
        with open(store.path(ref.checksum, kind), "rb") as handle:
            # small files, in the page cache: a thread hop would cost more than the read
            data = handle.read()
    except FileNotFoundError:
        raise not_rendered(kind) from None
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


class ShareAccess:
    """A share link's album and one of its photos, as the link may see them now."""

    def __init__(self, albums: AlbumCommandsPort, pool: asyncpg.Pool) -> None:
        self._albums = albums
        self._pool = pool

    async def link(self, request: Request) -> OpenedShareResult:
        try:
            return await self._albums.open_share(str(request.path_params["share_token"]))
        except ShareGone as error:
            raise gone(error) from None

    async def photo(self, request: Request, album_id: UUID) -> FileRef:
        photo_id = path_uuid(request, "photo_id")
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(PHOTO_SQL, photo_id, album_id)
        if row is None:
            raise not_found(f"Photo {photo_id} was not found")
        return file_ref(row)


def image_endpoints(
    pool: asyncpg.Pool,
    store: RenditionStore,
    originals: Originals,
    albums: AlbumCommandsPort,
    record_download: RecordDownload,
    history: EventHistoryPort | None = None,
) -> list[Endpoint]:
    callers = Callers(history)
    share = ShareAccess(albums, pool)

    async def member_file(request: Request, query: FileImageQuery) -> FileRef:
        file_id = str(request.path_params["file_id"])
        principal = await callers.principal(request)
        async with pool.acquire() as conn:
            rows = await conn.fetch(FILE_SQL, file_id, query.folder_id)
        visible = [r for r in rows if principal.may_see(r["org_id"])]
        if not visible:
            raise not_found(f"File {file_id!r} was not found")
        if len({r["folder_id"] for r in visible}) > 1:
            raise Problem(
                409,
                "ambiguous-file",
                "Several folders have this file id",
                "Name the folder with ?folder_id=",
            )
        principal.require(visible[0]["org_id"], Action.VIEW)
        return file_ref(visible[0])

    def member_rendition(kind: str) -> Handler:
        async def handler(request: Request) -> Response:
            query = read_query(request, FileImageQuery)
            ref = await member_file(request, query)
            return rendition_answer(
                request, store, ref, kind, cache_control(query, ref.checksum, public=False)
            )

        handler.__name__ = f"file_{kind}"
        return handler

    async def file_original(request: Request) -> Response:
        query = read_query(request, FileImageQuery)
        ref = await member_file(request, query)
        return await original_answer(
            request, originals, ref, cache_control(query, ref.checksum, public=False)
        )

    def share_rendition(kind: str) -> Handler:
        async def handler(request: Request) -> Response:
            query = read_query(request, ImageQuery)
            link = await share.link(request)
            ref = await share.photo(request, link.album_id)
            return rendition_answer(
                request, store, ref, kind, cache_control(query, ref.checksum, public=True)
            )

        handler.__name__ = f"shared_{kind}"
        return handler

    async def shared_original(request: Request) -> Response:
        query = read_query(request, ImageQuery)
        link = await share.link(request)
        ref = await share.photo(request, link.album_id)
        if not link.allow_download:
            raise downloads_off()
        photo_id = path_uuid(request, "photo_id")

        async def recorded() -> object:
            return await record_download(
                ref.org_id, link.album_id, "original", "photo", [photo_id], guest_name(request)
            )

        return await original_answer(
            request, originals, ref, cache_control(query, ref.checksum, public=True), recorded
        )

    file_path = "/api/storage/files/{file_id:path}"
    photo_path = "/api/share/{share_token}/photos/{photo_id}"
    file_param = {"file_id": {"type": "string", "description": "The provider's file id"}}
    image = {MEDIA_TYPE: BINARY}
    cache_headers = {"ETag": "Strong: the content's key and kind", "Cache-Control": "See ?v="}
    original_headers = {
        **cache_headers,
        "Accept-Ranges": "bytes: send Range for part of the file (206, Content-Range)",
        "Content-Disposition": "attachment, with the file's name",
    }
    conditional = {
        "If-None-Match": {"description": "An ETag seen before: 304", "schema": {"type": "string"}}
    }
    endpoints: list[Endpoint] = []
    for kind, edge in ((THUMBNAIL, 400), (PREVIEW, 2048)):
        endpoints += [
            Endpoint(
                "GET",
                f"{file_path}/{kind}",
                member_rendition(kind),
                f"The file's {kind} (JPEG, {edge} px on the long edge, EXIF orientation "
                "applied, sRGB); 404 /not-rendered until it is made",
                "images",
                query=FileImageQuery,
                errors=(404, 409, 422),
                content=image,
                path_params=file_param,
                headers=conditional,
                response_headers=cache_headers,
            ),
            Endpoint(
                "GET",
                f"{photo_path}/{kind}",
                share_rendition(kind),
                f"A photo of the link's album: its {kind}; other albums' photos are 404",
                "images",
                query=ImageQuery,
                authenticated=False,
                errors=(404, 410, 422),
                content=image,
                headers=conditional,
                response_headers=cache_headers,
            ),
        ]
    endpoints += [
        Endpoint(
            "GET",
            f"{file_path}/original",
            file_original,
            "The original file as its provider has it; Range gives part of it (206)",
            "images",
            query=FileImageQuery,
            errors=(404, 409, 422),
            content={"application/octet-stream": BINARY, "image/jpeg": BINARY},
            path_params=file_param,
            headers=conditional,
            response_headers=original_headers,
        ),
        Endpoint(
            "GET",
            f"{photo_path}/original",
            shared_original,
            "The original, when the link allows downloads (otherwise 403 /downloads-off); "
            "Range gives part of it (206); each download is recorded",
            "images",
            query=ImageQuery,
            authenticated=False,
            errors=(403, 404, 410, 422),
            content={"application/octet-stream": BINARY, "image/jpeg": BINARY},
            headers={**conditional, "X-Guest": {"schema": {"type": "string"}}},
            response_headers=original_headers,
        ),
    ]
    return endpoints


@dataclass(frozen=True)
class ImageParts:
    """What the image and download routes need, built by the composition root."""

    store: RenditionStore
    originals: Originals
    record_download: RecordDownload
