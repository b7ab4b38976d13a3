"""Album routes: the photographer's (signed in, by role) and the client's (by share token)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any, Literal
from uuid import UUID, uuid4

import asyncpg
import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from broker.topics import ALBUMS
from domains.album import COLORS, PROC_STATUSES, STATES
from domains.policies import Action
from queries import consistency
from queries.auth import Callers, Principal
from queries.bodies import path_uuid, read_body, read_query
from queries.paging import PageQuery, SortKey
from queries.ports import AlbumCommandsPort, EventHistoryPort, WriteResult
from queries.problems import not_found
from queries.routing import Endpoint, json
from queries.text import Line, Lines, header_line

ALBUM_COLUMNS = (
    "album_id, org_id, title, status, tags, client_name, client_email, folder_id, photo_count,"
    " selection_count, selection_limit, comment_count, version, created_at, updated_at,"
    " sync_processed, sync_total"
)
PHOTO_COLUMNS = (
    "photo_id, file_id, name, cardinality(picked_by) > 0 AS selected, rating, color,"
    " comment_count, proc_status"
)


BY_NAME = SortKey(("name", "photo_id"), (str, UUID))
BY_CREATION = SortKey(("created_at", "album_id"), (datetime, UUID))
COMMENTS_IN_ORDER = SortKey(("created_at", "comment_id"), (datetime, UUID))
ACTIVITY_IN_ORDER = SortKey(("occurred_at", "event_id"), (datetime, UUID))

# Two statements, not one with an optional cursor: the index range needs a plain condition.
PHOTOS_FIRST = (
    f"SELECT {PHOTO_COLUMNS} FROM read.album_photos WHERE album_id = $1 "
    "ORDER BY name, photo_id LIMIT $2"
)
PHOTOS_AFTER = (
    f"SELECT {PHOTO_COLUMNS} FROM read.album_photos WHERE album_id = $1 "
    "AND (name, photo_id) > ($2, $3) ORDER BY name, photo_id LIMIT $4"
)


class Client(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Line = Field(min_length=1, max_length=200)
    email: Line = Field(max_length=254)


class CreateAlbum(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Line = Field(min_length=1, max_length=200)
    folder_id: UUID | None = None
    client: Client
    tags: list[Line] = Field(default_factory=list, max_length=50)
    selection_limit: int | None = Field(default=None, ge=1, le=100_000)


class Tag(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tag: Line = Field(min_length=1, max_length=50)


class Share(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expires_at: AwareDatetime | None = None
    allow_download: bool = False


class ProcStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["pending", "editing", "edited", "rejected"]


class Rating(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: int = Field(ge=0, le=5)
    color: Literal["red", "yellow", "green", "blue", "purple"] | None = None


class Comment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Lines = Field(min_length=1, max_length=4000)


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Lines = Field(min_length=1, max_length=4000)


class AlbumWritten(BaseModel):
    album_id: UUID
    version: int
    consistency_token: str


class AlbumView(BaseModel):
    album_id: UUID
    org_id: UUID
    title: str
    status: str
    tags: list[str]
    client: dict[str, str]
    folder_id: UUID | None
    photo_count: int
    selection_count: int
    selection_limit: int | None
    comment_count: int
    version: int
    created_at: datetime
    updated_at: datetime


class AlbumPhoto(BaseModel):
    photo_id: UUID
    file_id: str
    name: str
    selected: bool
    rating: int | None
    color: str | None
    comment_count: int
    proc_status: str


class Shared(AlbumWritten):
    share_token: str = Field(description="The client's credential: /api/share/{share_token}.")


class CommentView(BaseModel):
    comment_id: UUID
    photo_id: UUID
    author: str = Field(description="A member's user id, or client:<guest> for a client.")
    text: str
    created_at: datetime


class ActivityEntry(BaseModel):
    event_id: UUID
    activity: str
    actor: str | None
    occurred_at: datetime
    details: dict[str, Any]


class SharedAlbum(BaseModel):
    """What a client sees of the album: no studio, folder or tags."""

    album_id: UUID
    title: str
    status: str
    client: dict[str, str]
    photo_count: int
    selection_count: int
    selection_limit: int | None
    comment_count: int
    version: int
    created_at: datetime
    updated_at: datetime


class SharedPhotos(BaseModel):
    items: list[AlbumPhoto]
    next_cursor: str | None


class ShareView(BaseModel):
    album: SharedAlbum
    photos: SharedPhotos = Field(description="The first page; ?limit=&cursor= page on.")


AlbumStatus = Literal[STATES]  # type: ignore[valid-type]


class AlbumQuery(PageQuery):
    status: AlbumStatus | None = None
    tag: Line | None = Field(default=None, max_length=50)
    q: Line | None = Field(default=None, max_length=200)


class ExportQuery(BaseModel):
    format: Literal["lightroom", "csv"] = "lightroom"


def _written(result: WriteResult, **extra: Any) -> dict[str, Any]:
    token = consistency.Token(ALBUMS.name, result.aggregate_id, result.version)
    return {
        "album_id": result.aggregate_id,
        "version": result.version,
        "consistency_token": token.encode(),
        **extra,
    }


def _album(row: asyncpg.Record) -> dict[str, Any]:
    view = {
        k: row[k]
        for k in (
            "album_id",
            "org_id",
            "title",
            "status",
            "tags",
            "folder_id",
            "photo_count",
            "selection_count",
            "selection_limit",
            "comment_count",
            "version",
            "created_at",
            "updated_at",
        )
    }
    view["client"] = {"name": row["client_name"], "email": row["client_email"]}
    view["sync"] = {"processed": row["sync_processed"], "total": row["sync_total"]}
    return view


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """A spreadsheet cell that stays text: one starting like a formula gets a leading ``'``.

    Guest names (``X-Guest``) and file names come from outside; opened in a spreadsheet,
    ``=HYPERLINK(...)`` would otherwise run as a formula on the photographer's machine.
    """
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


GUEST = {
    "description": "Which of the guests sharing the link acts (picks, ratings and comments are "
    "kept per guest); 'guest' when absent; its first 64 characters count.",
    "schema": {"type": "string"},
}


def _guest(request: Request) -> str:
    """Several guests share one link; each browser names itself (``X-Guest``)."""
    guest = header_line(request, "x-guest", "guest").strip()[:64]
    return guest or "guest"


def album_endpoints(
    albums: AlbumCommandsPort,
    pool: asyncpg.Pool,
    max_body: int,
    history: EventHistoryPort | None = None,
) -> list[Endpoint]:
    callers = Callers(history)

    async def album_row(request: Request, action: Action) -> tuple[Principal, asyncpg.Record]:
        sql = f"SELECT {ALBUM_COLUMNS} FROM read.albums WHERE album_id = $1"
        return await callers.studio_resource(request, pool, sql, "album_id", "Album", action)

    async def photos_page(request: Request, album_id: UUID) -> dict[str, Any]:
        query = read_query(request, PageQuery)
        after = BY_NAME.after(query.cursor)
        async with pool.acquire() as conn:
            if after is None:
                rows = await conn.fetch(PHOTOS_FIRST, album_id, query.limit + 1)
            else:
                rows = await conn.fetch(PHOTOS_AFTER, album_id, *after, query.limit + 1)
        return BY_NAME.page([dict(r) for r in rows], query.limit)

    async def create(request: Request) -> Response:
        org_id = path_uuid(request, "org_id")
        principal = await callers.principal(request)
        principal.require(org_id, Action.EDIT_ALBUMS)
        body = await read_body(request, CreateAlbum, max_body)
        result = await albums.create(
            org_id,
            body.title,
            body.client.name,
            body.client.email,
            body.folder_id,
            body.tags,
            body.selection_limit,
            principal.user_id,
        )
        return json(_written(result), 201, {"Location": f"/api/albums/{result.aggregate_id}"})

    async def list_albums(request: Request) -> Response:
        org_id = path_uuid(request, "org_id")
        query = read_query(request, AlbumQuery)
        principal = await callers.principal(request)
        principal.require(org_id, Action.VIEW)
        after = BY_CREATION.arguments(query.cursor)
        like = f"%{query.q.lower()}%" if query.q else None
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {ALBUM_COLUMNS} FROM read.albums WHERE org_id = $1 "
                "AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR $3 = ANY(tags)) "
                "AND ($4::text IS NULL OR lower(title) LIKE $4 OR lower(client_name) LIKE $4) "
                "AND ($5::timestamptz IS NULL OR (created_at, album_id) > ($5, $6::uuid)) "
                "ORDER BY created_at, album_id LIMIT $7",
                org_id,
                query.status,
                query.tag,
                like,
                *after,
                query.limit + 1,
            )
        return json(BY_CREATION.page([_album(r) for r in rows], query.limit))

    async def get_album(request: Request) -> Response:
        _, row = await album_row(request, Action.VIEW)
        return json(_album(row), headers={"ETag": f'"{row["version"]}"'})

    async def photos(request: Request) -> Response:
        _, row = await album_row(request, Action.VIEW)
        return json(await photos_page(request, row["album_id"]))

    def photographer(command: str) -> Any:
        async def handler(request: Request) -> Response:
            principal, row = await album_row(request, Action.EDIT_ALBUMS)
            album_id, actor = row["album_id"], principal.actor
            if command == "sync":
                result = await albums.change(album_id, lambda a: a.request_sync(actor))
                return json(_written(result), 202)
            if command == "share":
                sharing = await read_body(request, Share, max_body)
                result, token = await albums.share(
                    album_id, sharing.expires_at, sharing.allow_download, actor
                )
                return json(_written(result, share_token=token))
            if command == "tag":
                tag = (await read_body(request, Tag, max_body)).tag
                result = await albums.change(album_id, lambda a: a.tag([tag], [], actor))
            elif command == "untag":
                gone = str(request.path_params["tag"])
                result = await albums.change(album_id, lambda a: a.tag([], [gone], actor))
            elif command == "proc":
                status = (await read_body(request, ProcStatus, max_body)).status
                photo_id = path_uuid(request, "photo_id")
                result = await albums.change(
                    album_id, lambda a: a.set_proc_status(photo_id, status, actor)
                )
            else:
                result = await albums.change(album_id, lambda a: a.step(command, actor))
            return json(_written(result))

        handler.__name__ = f"album_{command}"
        return handler

    async def comments(request: Request) -> Response:
        query = read_query(request, PageQuery)
        _, row = await album_row(request, Action.VIEW)
        after = COMMENTS_IN_ORDER.arguments(query.cursor)
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT comment_id, photo_id, author, text, created_at FROM read.album_comments "
                "WHERE album_id = $1 AND ($2::timestamptz IS NULL OR (created_at, comment_id) > "
                "($2, $3::uuid)) ORDER BY created_at, comment_id LIMIT $4",
                row["album_id"],
                *after,
                query.limit + 1,
            )
        return json(COMMENTS_IN_ORDER.page([dict(r) for r in rows], query.limit))

    async def activity(request: Request) -> Response:
        query = read_query(request, PageQuery)
        _, row = await album_row(request, Action.VIEW)
        after = ACTIVITY_IN_ORDER.arguments(query.cursor)
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT event_id, activity, actor, occurred_at, details FROM read.album_activity "
                "WHERE album_id = $1 AND ($2::timestamptz IS NULL OR (occurred_at, event_id) > "
                "($2, $3::uuid)) ORDER BY occurred_at, event_id LIMIT $4",
                row["album_id"],
                *after,
                query.limit + 1,
            )
        items = [dict(r) | {"details": orjson.loads(r["details"])} for r in rows]
        return json(ACTIVITY_IN_ORDER.page(items, query.limit))

    async def export(request: Request) -> Response:
        query = read_query(request, ExportQuery)
        _, row = await album_row(request, Action.VIEW)
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT name, file_id, rating, color, picked_by FROM read.album_photos "
                "WHERE album_id = $1 AND cardinality(picked_by) > 0 ORDER BY name",
                row["album_id"],
            )
        if query.format == "lightroom":
            # Lightroom's library filter takes names separated by commas ("contains any").
            names = ", ".join(r["name"].rsplit(".", 1)[0] for r in rows)
            return Response(names, media_type="text/plain; charset=utf-8")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["name", "file_id", "rating", "color", "picked_by"])
        for r in rows:
            writer.writerow(
                [
                    _cell(r["name"]),
                    _cell(r["file_id"]),
                    r["rating"] or "",
                    _cell(r["color"] or ""),
                    _cell(" ".join(r["picked_by"])),
                ]
            )
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="selection-{row["album_id"]}.csv"'
            },
        )

    # Client routes: the share token is the only credential ------------------------------------

    async def share_view(request: Request) -> Response:
        token = request.path_params["share_token"]
        album_id = await albums.open_share(token)
        async with pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {ALBUM_COLUMNS} FROM read.albums WHERE album_id = $1", album_id
            )
        if row is None:
            raise not_found("No album has this share link")
        view = _album(row)
        for private in ("org_id", "folder_id", "tags", "sync"):
            view.pop(private)
        return json({"album": view, "photos": await photos_page(request, album_id)})

    def client(command: str) -> Any:
        async def handler(request: Request) -> Response:
            token, guest = request.path_params["share_token"], _guest(request)
            act: Any
            if command in ("select", "deselect", "rating", "comments"):
                photo_id = path_uuid(request, "photo_id")
            if command == "select":
                act = lambda a: a.select(photo_id, guest)  # noqa: E731
            elif command == "deselect":
                act = lambda a: a.deselect(photo_id, guest)  # noqa: E731
            elif command == "rating":
                body = await read_body(request, Rating, max_body)
                act = lambda a: a.rate(photo_id, guest, body.rating, body.color)  # noqa: E731
            elif command == "comments":
                text = (await read_body(request, Comment, max_body)).text
                comment_id = uuid4()
                act = lambda a: a.comment(photo_id, comment_id, f"client:{guest}", text)  # noqa: E731
            elif command == "request-changes":
                note = (await read_body(request, Note, max_body)).text
                act = lambda a: a.step("request_changes", f"client:{guest}", note)  # noqa: E731
            else:
                step = {"submit": "submit", "approve": "approve"}[command]
                act = lambda a: a.step(step, f"client:{guest}")  # noqa: E731
            result = await albums.as_client(token, act)
            return json(_written(result), 201 if command == "comments" else 200)

        handler.__name__ = f"client_{command.replace('-', '_')}"
        return handler

    errors = (400, 401, 403, 404, 409, 413, 422)
    share_errors = (400, 404, 409, 413, 422)
    base = "/api/albums/{album_id}"
    shared = "/api/share/{share_token}"
    endpoints = [
        Endpoint(
            "POST",
            "/api/orgs/{org_id}/albums",
            create,
            "Create an album",
            "albums",
            status=201,
            body=CreateAlbum,
            response=AlbumWritten,
            errors=errors,
            response_headers={"Location": "The new album's URL"},
        ),
        Endpoint(
            "GET",
            "/api/orgs/{org_id}/albums",
            list_albums,
            "The studio's albums (?status=&tag=&q=)",
            "albums",
            response=AlbumView,
            query=AlbumQuery,
            paged=True,
            errors=(401, 403, 404, 409, 422),
        ),
        Endpoint(
            "GET",
            base,
            get_album,
            "One album",
            "albums",
            response=AlbumView,
            errors=(401, 404, 409),
            response_headers={"ETag": "The album's version, quoted"},
        ),
        Endpoint(
            "GET",
            f"{base}/photos",
            photos,
            "The album's photos",
            "albums",
            response=AlbumPhoto,
            query=PageQuery,
            paged=True,
            errors=(401, 404, 409, 422),
        ),
        Endpoint(
            "GET",
            f"{base}/activity",
            activity,
            "What happened to the album, and who did it",
            "albums",
            response=ActivityEntry,
            query=PageQuery,
            paged=True,
            errors=(401, 404, 409, 422),
        ),
        Endpoint(
            "GET",
            f"{base}/comments",
            comments,
            "The album's comments",
            "albums",
            response=CommentView,
            query=PageQuery,
            paged=True,
            errors=(401, 404, 409, 422),
        ),
        Endpoint(
            "GET",
            f"{base}/selection/export",
            export,
            "The selection as a Lightroom filter string or CSV",
            "albums",
            query=ExportQuery,
            content={
                "text/plain": {"type": "string", "description": "Lightroom: names, with commas"},
                "text/csv": {"type": "string", "description": "name,file_id,rating,color,..."},
            },
            errors=(401, 404, 422),
        ),
        Endpoint(
            "POST",
            f"{base}/sync",
            photographer("sync"),
            "Ask Storage for a full sync of the album's folder",
            "albums",
            status=202,
            response=AlbumWritten,
            errors=errors,
        ),
        Endpoint(
            "POST",
            f"{base}/tags",
            photographer("tag"),
            "Add a tag",
            "albums",
            body=Tag,
            response=AlbumWritten,
            errors=errors,
        ),
        Endpoint(
            "DELETE",
            f"{base}/tags/{{tag}}",
            photographer("untag"),
            "Remove a tag",
            "albums",
            response=AlbumWritten,
            errors=errors,
        ),
        Endpoint(
            "POST",
            f"{base}/share",
            photographer("share"),
            "Share with the client: answers the share token",
            "albums",
            body=Share,
            response=Shared,
            errors=errors,
        ),
        Endpoint(
            "POST",
            f"{base}/photos/{{photo_id}}/proc",
            photographer("proc"),
            f"Set a photo's editing status ({', '.join(PROC_STATUSES)})",
            "albums",
            body=ProcStatus,
            response=AlbumWritten,
            errors=errors,
        ),
        Endpoint(
            "GET",
            shared,
            share_view,
            "The shared album and its photos (paged)",
            "client",
            response=ShareView,
            query=PageQuery,
            authenticated=False,
            errors=(404, 422),
        ),
        Endpoint(
            "POST",
            f"{shared}/photos/{{photo_id}}/select",
            client("select"),
            "Pick a photo (beyond the selection limit: 409)",
            "client",
            response=AlbumWritten,
            authenticated=False,
            errors=share_errors,
            headers={"X-Guest": GUEST},
        ),
        Endpoint(
            "POST",
            f"{shared}/photos/{{photo_id}}/deselect",
            client("deselect"),
            "Unpick a photo",
            "client",
            response=AlbumWritten,
            authenticated=False,
            errors=share_errors,
            headers={"X-Guest": GUEST},
        ),
        Endpoint(
            "POST",
            f"{shared}/photos/{{photo_id}}/rating",
            client("rating"),
            f"Rate 0..5, colour one of {', '.join(COLORS)}",
            "client",
            body=Rating,
            response=AlbumWritten,
            authenticated=False,
            errors=share_errors,
            headers={"X-Guest": GUEST},
        ),
        Endpoint(
            "POST",
            f"{shared}/photos/{{photo_id}}/comments",
            client("comments"),
            "Comment on a photo",
            "client",
            status=201,
            body=Comment,
            response=AlbumWritten,
            authenticated=False,
            errors=share_errors,
            headers={"X-Guest": GUEST},
        ),
        Endpoint(
            "POST",
            f"{shared}/submit",
            client("submit"),
            "Submit the selection",
            "client",
            response=AlbumWritten,
            authenticated=False,
            errors=share_errors,
            headers={"X-Guest": GUEST},
        ),
        Endpoint(
            "POST",
            f"{shared}/request-changes",
            client("request-changes"),
            "Send a delivery back with a note",
            "client",
            body=Note,
            response=AlbumWritten,
            authenticated=False,
            errors=share_errors,
            headers={"X-Guest": GUEST},
        ),
        Endpoint(
            "POST",
            f"{shared}/approve",
            client("approve"),
            "Approve the delivery",
            "client",
            response=AlbumWritten,
            authenticated=False,
            errors=share_errors,
            headers={"X-Guest": GUEST},
        ),
    ]
    for command in ("start-editing", "deliver", "archive", "reopen"):
        endpoints.append(
            Endpoint(
                "POST",
                f"{base}/{command}",
                photographer(command.replace("-", "_")),
                f"Workflow: {command}",
                "albums",
                response=AlbumWritten,
                errors=errors,
            )
        )
    return endpoints
