"""The studio's reads of its albums: lists, one album, its photos, comments and activity.

Reads come from the read tables and check the caller's role there; send
``X-Consistency-Token`` with a command's token to read your own writes. Every list pages with
its ``SortKey``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson
from starlette.requests import Request
from starlette.responses import Response

from domains.album_workflow import commands_allowed
from domains.policies import Action, allows
from queries.album_models import (
    ActivityEntry,
    AlbumPhoto,
    AlbumQuery,
    AlbumView,
    CommentView,
    PhotoQuery,
)
from queries.auth import Callers, Principal
from queries.bodies import path_uuid, read_query
from queries.paging import PageQuery, SortKey
from queries.photo_images import IMAGE_COLUMNS, ImageLinks, member_links
from queries.routing import Endpoint, json

ALBUM_COLUMNS = (
    "album_id, org_id, title, status, tags, client_name, client_email, client_forgotten,"
    " folder_id, photo_count,"
    " selection_count, selection_limit, comment_count, version, created_at, updated_at,"
    " sync_processed, sync_total, share_nonce, share_expires_at, allow_download, watermark"
)
PHOTO_COLUMNS = (
    "p.photo_id, p.file_id, p.name, cardinality(p.picked_by) > 0 AS selected, p.picked_by,"
    " p.rating,"
    f" p.color, p.ratings, p.comment_count, p.proc_status, a.folder_id, {IMAGE_COLUMNS}"
)
PHOTO_SOURCES = (
    "read.album_photos p JOIN read.albums a ON a.album_id = p.album_id"
    " LEFT JOIN read.files f ON f.folder_id = a.folder_id AND f.file_id = p.file_id"
    " LEFT JOIN read.renditions r ON r.checksum = f.checksum"
)
ALBUM_BY_ID = f"SELECT {ALBUM_COLUMNS} FROM read.albums WHERE album_id = $1"

BY_NAME = SortKey(("name", "photo_id"), (str, UUID))
BY_CREATION = SortKey(("created_at", "album_id"), (datetime, UUID))
COMMENTS_IN_ORDER = SortKey(("created_at", "comment_id"), (datetime, UUID))
ACTIVITY_IN_ORDER = SortKey(("occurred_at", "event_id"), (datetime, UUID))

# Two statements, not one with an optional cursor: the index range needs a plain condition.
PHOTOS_FIRST = (
    f"SELECT {PHOTO_COLUMNS} FROM {PHOTO_SOURCES} WHERE p.album_id = $1{{shown}} "
    "ORDER BY p.name, p.photo_id LIMIT $2"
)
PHOTOS_AFTER = (
    f"SELECT {PHOTO_COLUMNS} FROM {PHOTO_SOURCES} WHERE p.album_id = $1{{shown}} "
    "AND (p.name, p.photo_id) > ($2, $3) ORDER BY p.name, p.photo_id LIMIT $4"
)
SHOWN = {
    "all": "",
    "picked": " AND cardinality(p.picked_by) > 0",
    "rated": " AND p.ratings <> '{}'::jsonb",
    "commented": " AND p.comment_count > 0",
}
"""``?show=``: fixed SQL per choice, so the photos page filters in the database, not in a
browser that has loaded only some of 15,000 photos."""
COMMENTS = (
    "SELECT c.comment_id, c.photo_id, p.name AS photo_name, c.author, c.text, c.created_at "
    "FROM read.album_comments c LEFT JOIN read.album_photos p ON p.photo_id = c.photo_id "
    "WHERE c.album_id = $1 AND ($2::uuid IS NULL OR c.photo_id = $2) "
    "AND ($3::timestamptz IS NULL OR (c.created_at, c.comment_id) > ($3, $4::uuid)) "
    "ORDER BY c.created_at, c.comment_id LIMIT $5"
)


def album_view(row: asyncpg.Record) -> dict[str, Any]:
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
    view["client_forgotten"] = row["client_forgotten"]
    view["sync"] = {"processed": row["sync_processed"], "total": row["sync_total"]}
    view["share"] = {
        "active": row["share_nonce"] is not None,
        "expires_at": row["share_expires_at"],
        "allow_download": row["allow_download"],
        "watermark": row["watermark"],
    }
    allowed = commands_allowed(row["status"])
    if row["client_forgotten"]:  # no client left to share with (sharing again is 409)
        allowed = [c for c in allowed if c != "share"]
    else:
        allowed.append("forget_client")  # in any state, for owners and admins
    if row["share_nonce"] is None:  # no link to revoke (DELETE .../share is 404)
        allowed = [c for c in allowed if c != "revoke_share"]
    view["allowed_commands"] = sorted(allowed)
    return view


PHOTO_FIELDS = (
    "photo_id",
    "file_id",
    "name",
    "selected",
    "picked_by",
    "rating",
    "color",
    "comment_count",
    "proc_status",
)


def photo_view(row: asyncpg.Record, links: ImageLinks, guest: str | None = None) -> dict[str, Any]:
    """A photo row; on a share link, ``rating`` and ``color`` are the calling guest's own."""
    photo = {f: row[f] for f in PHOTO_FIELDS}
    photo["images"] = links.of(row)
    photo["ratings"] = orjson.loads(row["ratings"])
    if guest is not None:
        own = photo["ratings"].get(guest) or {}
        photo["rating"], photo["color"] = own.get("rating"), own.get("color")
    return photo


async def photos_page(
    pool: asyncpg.Pool,
    request: Request,
    album_id: UUID,
    links: ImageLinks,
    guest: str | None = None,
) -> dict[str, Any]:
    query = read_query(request, PhotoQuery)
    after = BY_NAME.after(query.cursor)
    shown = SHOWN[query.show]
    async with pool.acquire() as conn:
        if after is None:
            rows = await conn.fetch(PHOTOS_FIRST.format(shown=shown), album_id, query.limit + 1)
        else:
            rows = await conn.fetch(
                PHOTOS_AFTER.format(shown=shown), album_id, *after, query.limit + 1
            )
    return BY_NAME.page([photo_view(r, links, guest) for r in rows], query.limit)


async def comments_page(
    pool: asyncpg.Pool, request: Request, album_id: UUID, photo_id: UUID | None = None
) -> dict[str, Any]:
    query = read_query(request, PageQuery)
    after = COMMENTS_IN_ORDER.arguments(query.cursor)
    async with pool.acquire() as conn:
        rows = await conn.fetch(COMMENTS, album_id, photo_id, *after, query.limit + 1)
    return COMMENTS_IN_ORDER.page([dict(r) for r in rows], query.limit)


class AlbumRows:
    """An album's read-table row, for a caller whose role in its studio allows an action."""

    def __init__(self, callers: Callers, pool: asyncpg.Pool) -> None:
        self._callers = callers
        self._pool = pool

    async def get(self, request: Request, action: Action) -> tuple[Principal, asyncpg.Record]:
        return await self._callers.studio_resource(
            request, self._pool, ALBUM_BY_ID, "album_id", "Album", action
        )


def album_read_endpoints(
    callers: Callers, pool: asyncpg.Pool, share_token_of: Callable[[UUID, str], str]
) -> list[Endpoint]:
    rows = AlbumRows(callers, pool)

    async def list_albums(request: Request) -> Response:
        org_id = path_uuid(request, "org_id")
        query = read_query(request, AlbumQuery)
        principal = await callers.principal(request, studio=org_id)
        principal.require(org_id, Action.VIEW)
        after = BY_CREATION.arguments(query.cursor)
        like = f"%{query.q.lower()}%" if query.q else None
        async with pool.acquire() as conn:
            found = await conn.fetch(
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
        return json(BY_CREATION.page([album_view(r) for r in found], query.limit))

    async def get_album(request: Request) -> Response:
        principal, row = await rows.get(request, Action.VIEW)
        view = album_view(row)
        if row["share_nonce"] and allows(
            principal.require(row["org_id"], Action.VIEW), Action.EDIT_ALBUMS
        ):
            view["share"]["token"] = share_token_of(row["album_id"], row["share_nonce"])
        return json(view, headers={"ETag": f'"{row["version"]}"'})

    async def photos(request: Request) -> Response:
        _, row = await rows.get(request, Action.VIEW)
        return json(await photos_page(pool, request, row["album_id"], member_links()))

    async def comments(request: Request) -> Response:
        read_query(request, PageQuery)
        _, row = await rows.get(request, Action.VIEW)
        return json(await comments_page(pool, request, row["album_id"]))

    async def activity(request: Request) -> Response:
        query = read_query(request, PageQuery)
        _, row = await rows.get(request, Action.VIEW)
        after = ACTIVITY_IN_ORDER.arguments(query.cursor)
        async with pool.acquire() as conn:
            found = await conn.fetch(
                "SELECT event_id, activity, actor, occurred_at, details FROM read.album_activity "
                "WHERE album_id = $1 AND ($2::timestamptz IS NULL OR (occurred_at, event_id) > "
                "($2, $3::uuid)) ORDER BY occurred_at, event_id LIMIT $4",
                row["album_id"],
                *after,
                query.limit + 1,
            )
        items = [dict(r) | {"details": orjson.loads(r["details"])} for r in found]
        return json(ACTIVITY_IN_ORDER.page(items, query.limit))

    base = "/api/albums/{album_id}"
    paged_errors = (401, 404, 409, 422)
    return [
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
            "One album, with its share link's expiry and download switch",
            "albums",
            response=AlbumView,
            errors=(401, 404, 409),
            response_headers={"ETag": "The album's version, quoted: send it back as If-Match"},
        ),
        Endpoint(
            "GET",
            f"{base}/photos",
            photos,
            "The album's photos, with every guest's rating (?show=picked|rated|commented)",
            "albums",
            response=AlbumPhoto,
            query=PhotoQuery,
            paged=True,
            errors=paged_errors,
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
            errors=paged_errors,
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
            errors=paged_errors,
        ),
    ]
