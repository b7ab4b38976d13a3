"""The client's routes under ``/api/share/{share_token}``: the token is the only credential.

Several guests share one link and tell themselves apart with ``X-Guest``; picks, ratings and
colours are kept per guest. A wrong or revoked token is 404; a link that worked once but no
longer does is 410, with a problem type ending in ``/share-expired`` or ``/share-archived`` so
the client's page can say which. Commands take ``If-Match`` like the photographer's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from uuid import UUID

import asyncpg
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from broker.topics import ALBUMS
from domains.album_actors import Guest
from domains.album_workflow import COLORS, ShareGone
from domains.rendition import PREVIEW
from queries import consistency
from queries.album_answers import GUEST, GUEST_COMMAND_HEADERS, answer, gone, guest_name, if_match
from queries.album_models import (
    AlbumWritten,
    Comment,
    CommentView,
    Note,
    PhotoQuery,
    Rating,
    ShareView,
)
from queries.album_reads import ALBUM_BY_ID, album_view, comments_page, photos_page
from queries.bodies import path_uuid, read_body, read_query
from queries.paging import PageQuery
from queries.photo_images import share_links
from queries.ports import AlbumCommandsPort
from queries.problems import not_found
from queries.routing import Endpoint, Handler, json
from queries.watermarked import studio_watermark

PRIVATE = ("org_id", "folder_id", "tags", "sync", "client_forgotten")
CONSISTENCY_WAIT_SECONDS = 5.0
SHARE_CONSISTENCY = {
    "description": "The consistency_token of this link's own command: the answer includes it "
    "(waits up to 5 s, then 409 /not-yet-consistent)",
    "schema": {"type": "string"},
}
CLIENT_COMMANDS = frozenset({"select", "rate", "comment", "submit", "request_changes", "approve"})


def _link_answers(handler: Callable[[Request], Awaitable[Response]]) -> Handler:
    """A link that no longer opens its album answers 410 saying why, on every client route."""

    @wraps(handler)
    async def answered(request: Request) -> Response:
        try:
            return await handler(request)
        except ShareGone as error:
            raise gone(error) from None

    return answered


def share_endpoints(
    albums: AlbumCommandsPort,
    pool: asyncpg.Pool,
    max_body: int,
    wait_seconds: float = CONSISTENCY_WAIT_SECONDS,
) -> list[Endpoint]:
    visibility = consistency.VisibilityWaits(pool)

    async def own_writes_shown(request: Request, album_id: UUID) -> None:
        """A guest's read after its own command waits for it, like a member's: the token of
        a command on this album only (any other token is not waited for)."""
        text = request.headers.get(consistency.HEADER)
        if not text:
            return
        written = consistency.Token.decode(text)
        if written.stream == ALBUMS.name and written.aggregate_id == album_id:
            await visibility.wait(written, wait_seconds)

    def guest(request: Request) -> Guest:
        return Guest(str(request.path_params["share_token"]), guest_name(request))

    async def opened(request: Request) -> UUID:
        """The album the link opens now, checked on the write side."""
        return (await albums.open_share(str(request.path_params["share_token"]))).album_id

    @_link_answers
    async def share_view(request: Request) -> Response:
        read_query(request, PhotoQuery)
        link = await albums.open_share(str(request.path_params["share_token"]))
        album_id = link.album_id
        async with pool.acquire() as conn:
            row = await conn.fetchrow(ALBUM_BY_ID, album_id)
        if row is None:
            raise not_found("No album has this share link")
        view = album_view(row)
        for private in PRIVATE:
            view.pop(private)
        # The link's facts as the album has them now, not as the read table last heard.
        view["share"] = {
            "active": True,
            "expires_at": link.expires_at,
            "allow_download": link.allow_download,
            "watermark": link.watermark,
        }
        view["allowed_commands"] = [c for c in view["allowed_commands"] if c in CLIENT_COMMANDS]
        watermark = await studio_watermark(pool, link.org_id) if link.watermark else None
        links = share_links(
            str(request.path_params["share_token"]),
            watermark.preview_kind if watermark else PREVIEW,
        )
        await own_writes_shown(request, album_id)
        photos = await photos_page(pool, request, album_id, links, guest_name(request))
        return json({"album": view, "photos": photos})

    @_link_answers
    async def client_photo_comments(request: Request) -> Response:
        read_query(request, PageQuery)
        photo_id = path_uuid(request, "photo_id")
        album_id = await opened(request)
        await own_writes_shown(request, album_id)
        async with pool.acquire() as conn:
            known = await conn.fetchval(
                "SELECT 1 FROM read.album_photos WHERE photo_id = $1 AND album_id = $2",
                photo_id,
                album_id,
            )
        if known is None:
            raise not_found(f"Photo {photo_id} was not found")
        return json(await comments_page(pool, request, album_id, photo_id))

    @_link_answers
    async def client_select(request: Request) -> Response:
        photo_id = path_uuid(request, "photo_id")
        return answer(await albums.select(guest(request), photo_id, if_match(request)))

    @_link_answers
    async def client_deselect(request: Request) -> Response:
        photo_id = path_uuid(request, "photo_id")
        return answer(await albums.deselect(guest(request), photo_id, if_match(request)))

    @_link_answers
    async def client_rating(request: Request) -> Response:
        photo_id = path_uuid(request, "photo_id")
        body = await read_body(request, Rating, max_body)
        return answer(
            await albums.rate(guest(request), photo_id, body.rating, body.color, if_match(request))
        )

    @_link_answers
    async def client_comments(request: Request) -> Response:
        photo_id = path_uuid(request, "photo_id")
        text = (await read_body(request, Comment, max_body)).text
        return answer(await albums.comment(guest(request), photo_id, text, if_match(request)), 201)

    @_link_answers
    async def client_submit(request: Request) -> Response:
        return answer(await albums.submit(guest(request), if_match(request)))

    @_link_answers
    async def client_request_changes(request: Request) -> Response:
        note = (await read_body(request, Note, max_body)).text
        return answer(await albums.request_changes(guest(request), note, if_match(request)))

    @_link_answers
    async def client_approve(request: Request) -> Response:
        return answer(await albums.approve(guest(request), if_match(request)))

    errors = (400, 404, 409, 410, 413, 422)
    shared = "/api/share/{share_token}"
    photo = f"{shared}/photos/{{photo_id}}"

    def command(
        path: str,
        handler: Handler,
        summary: str,
        body: type[BaseModel] | None = None,
        status: int = 200,
    ) -> Endpoint:
        return Endpoint(
            "POST",
            path,
            handler,
            summary,
            "client",
            status=status,
            body=body,
            response=AlbumWritten,
            authenticated=False,
            errors=errors,
            headers=GUEST_COMMAND_HEADERS,
        )

    return [
        Endpoint(
            "GET",
            shared,
            share_view,
            "The shared album (its link's expiry and download switch) and its photos (paged); "
            "rating and color are the calling guest's own",
            "client",
            response=ShareView,
            query=PhotoQuery,
            authenticated=False,
            errors=(400, 404, 409, 410, 422),
            headers={"X-Guest": GUEST, "X-Consistency-Token": SHARE_CONSISTENCY},
        ),
        command(f"{photo}/select", client_select, "Pick a photo (beyond the selection limit: 409)"),
        command(f"{photo}/deselect", client_deselect, "Unpick a photo"),
        command(
            f"{photo}/rating",
            client_rating,
            f"Rate 0..5, colour one of {', '.join(COLORS)} (kept per guest)",
            Rating,
        ),
        command(f"{photo}/comments", client_comments, "Comment on a photo", Comment, 201),
        Endpoint(
            "GET",
            f"{photo}/comments",
            client_photo_comments,
            "The photo's comments, oldest first",
            "client",
            response=CommentView,
            query=PageQuery,
            paged=True,
            authenticated=False,
            errors=(400, 404, 409, 410, 422),
            headers={"X-Consistency-Token": SHARE_CONSISTENCY},
        ),
        command(f"{shared}/submit", client_submit, "Submit the selection"),
        command(
            f"{shared}/request-changes",
            client_request_changes,
            "Send a delivery back with a note",
            Note,
        ),
        command(f"{shared}/approve", client_approve, "Approve the delivery"),
    ]
