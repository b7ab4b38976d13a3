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

from dataclasses import dataclass
from uuid import UUID

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from domains.album_workflow import ShareGone
from domains.policies import Action
from domains.rendition import PREVIEW, THUMBNAIL
from infra.originals import Originals
from infra.rendition_store import MEDIA_TYPE, RenditionStore
from queries.album_answers import gone, guest_name
from queries.auth import Callers
from queries.bodies import path_uuid, read_query
from queries.image_answers import (
    BINARY,
    FILE_SQL,
    PHOTO_SQL,
    FileImageQuery,
    FileRef,
    ImageQuery,
    RecordDownload,
    cache_control,
    downloads_off,
    file_ref,
    original_answer,
    rendition_answer,
)
from queries.ports import AlbumCommandsPort, EventHistoryPort, OpenedShareResult
from queries.problems import Problem, not_found
from queries.routing import Endpoint, Handler
from queries.watermarked import WatermarkedPreviews, studio_watermark, watermarked_answer


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
    watermarked: WatermarkedPreviews | None = None,
) -> list[Endpoint]:
    callers = Callers(history, bucket="images")
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
            return await rendition_answer(
                request, store, ref, kind, cache_control(query, ref.checksum, False, kind)
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
            if kind == PREVIEW and link.watermark and watermarked is not None:
                watermark = await studio_watermark(pool, link.org_id)
                if watermark is not None:
                    return await watermarked_answer(request, watermarked, ref, watermark, query)
            return await rendition_answer(
                request, store, ref, kind, cache_control(query, ref.checksum, True, kind)
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
    watermarked: WatermarkedPreviews | None = None
    """Client previews of watermarked links; None serves them clean."""
