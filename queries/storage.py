"""Storage routes: register folders, sync them, page their photos, read their audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson
from starlette.requests import Request
from starlette.responses import Response

from broker.topics import FOLDERS
from domains.policies import Action
from queries import consistency
from queries.auth import Callers, Principal
from queries.bodies import path_uuid, read_body, read_query
from queries.conditional import expected_version, if_match_header
from queries.paging import PageQuery, SortKey
from queries.ports import EventHistoryPort, StorageCommandsPort
from queries.routing import Endpoint, json
from queries.storage_models import (
    AuditEntry,
    FolderView,
    FolderWritten,
    PhotoView,
    RegisterFolder,
    StartSync,
    SyncAccepted,
)

LocationCheck = Callable[[str, str], Awaitable[None]]

FOLDER_COLUMNS = (
    "folder_id, org_id, provider, location, name, file_count, sync_id, sync_mode, sync_state,"
    " processed, total, started_at, finished_at, error, requested_mode"
)
PHOTO_COLUMNS = (
    "file_id, name, path, mime_type, size, width, height, taken_at, checksum, modified_at"
)


RENDITION_COUNTS = (
    "SELECT count(*) FILTER (WHERE r.state = 'ready') AS ready, count(*) AS total, "
    "count(*) FILTER (WHERE r.state = 'failed') AS failed "
    "FROM read.files f LEFT JOIN read.renditions r ON r.checksum = f.checksum "
    "WHERE f.folder_id = $1"
)

FOLDERS_IN_ORDER = SortKey(("created_at", "folder_id"), (datetime, UUID))
BY_PATH = SortKey(("path", "name", "file_id"), (str, str, str))
AUDIT_IN_ORDER = SortKey(("occurred_at", "event_id"), (datetime, UUID))

# Two statements rather than one with "$2 IS NULL OR ...": a prepared statement's generic plan
# cannot use the index range for an optional condition, and a late page then scans the folder.
PHOTOS_FIRST = (
    f"SELECT {PHOTO_COLUMNS} FROM read.files WHERE folder_id = $1 "
    "ORDER BY path, name, file_id LIMIT $2"
)
PHOTOS_AFTER = (
    f"SELECT {PHOTO_COLUMNS} FROM read.files WHERE folder_id = $1 "
    "AND (path, name, file_id) > ($2, $3, $4) ORDER BY path, name, file_id LIMIT $5"
)


def folder_view(row: asyncpg.Record) -> dict[str, Any]:
    sync = None
    if row["sync_id"] is not None:
        sync = {
            "sync_id": row["sync_id"],
            "mode": row["sync_mode"],
            "state": row["sync_state"],
            "processed": row["processed"],
            "total": row["total"],
            "started_at": row["started_at"],
            "finished_at": row["finished_at"],
            "error": row["error"],
            "requested_mode": row["requested_mode"] or row["sync_mode"],
        }
    return {
        k: row[k] for k in ("folder_id", "org_id", "provider", "location", "name", "file_count")
    } | {"sync": sync}


def storage_endpoints(
    commands: StorageCommandsPort,
    check_location: LocationCheck,
    pool: asyncpg.Pool,
    max_body: int,
    history: EventHistoryPort | None = None,
) -> list[Endpoint]:
    callers = Callers(history)

    async def folder_row(request: Request, action: Action) -> tuple[Principal, asyncpg.Record]:
        """The folder of the path, if the caller's role in its studio allows ``action``."""
        sql = f"SELECT {FOLDER_COLUMNS} FROM read.folders WHERE folder_id = $1"
        return await callers.studio_resource(request, pool, sql, "folder_id", "Folder", action)

    async def register(request: Request) -> Response:
        org_id = path_uuid(request, "org_id")
        principal = await callers.principal(request, studio=org_id)
        principal.require(org_id, Action.MANAGE_STORAGE)
        body = await read_body(request, RegisterFolder, max_body)
        await check_location(body.provider, body.location)
        written = await commands.register(
            org_id, body.provider, body.location, body.name, principal.user_id
        )
        token = consistency.Token(FOLDERS.name, written.aggregate_id, written.version)
        return json(
            {
                "folder_id": written.aggregate_id,
                "version": written.version,
                "consistency_token": token.encode(),
            },
            201,
            {"Location": f"/api/storage/folders/{written.aggregate_id}"},
        )

    async def list_folders(request: Request) -> Response:
        org_id = path_uuid(request, "org_id")
        query = read_query(request, PageQuery)
        principal = await callers.principal(request, studio=org_id)
        principal.require(org_id, Action.VIEW)
        after = FOLDERS_IN_ORDER.arguments(query.cursor)
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {FOLDER_COLUMNS}, created_at FROM read.folders WHERE org_id = $1 "
                "AND ($2::timestamptz IS NULL OR (created_at, folder_id) > ($2, $3::uuid))"
                " ORDER BY created_at, folder_id LIMIT $4",
                org_id,
                *after,
                query.limit + 1,
            )
        items = [folder_view(r) | {"created_at": r["created_at"]} for r in rows]
        result = FOLDERS_IN_ORDER.page(items, query.limit)
        for item in result["items"]:
            item.pop("created_at")
        return json(result)

    async def get_folder(request: Request) -> Response:
        _, row = await folder_row(request, Action.VIEW)
        async with pool.acquire() as conn:
            counts = await conn.fetchrow(RENDITION_COUNTS, row["folder_id"])
        return json(folder_view(row) | {"renditions": dict(counts)})

    async def sync(request: Request) -> Response:
        principal, row = await folder_row(request, Action.MANAGE_STORAGE)
        body = (
            await read_body(request, StartSync, max_body)
            if await _has_body(request)
            else StartSync()
        )
        requested = await commands.start_sync(
            row["folder_id"], body.mode, principal.actor, expected_version=expected_version(request)
        )
        token = None
        if requested.written is not None:
            token = consistency.Token(
                FOLDERS.name, requested.written.aggregate_id, requested.written.version
            ).encode()
        return json(
            {"sync_id": requested.sync_id, "joined": requested.joined, "consistency_token": token},
            202,
        )

    async def photos(request: Request) -> Response:
        query = read_query(request, PageQuery)
        _, row = await folder_row(request, Action.VIEW)
        after = BY_PATH.after(query.cursor)
        async with pool.acquire() as conn:
            if after is None:
                rows = await conn.fetch(PHOTOS_FIRST, row["folder_id"], query.limit + 1)
            else:
                rows = await conn.fetch(PHOTOS_AFTER, row["folder_id"], *after, query.limit + 1)
        return json(BY_PATH.page([dict(r) for r in rows], query.limit))

    async def audit(request: Request) -> Response:
        query = read_query(request, PageQuery)
        _, row = await folder_row(request, Action.VIEW)
        after = AUDIT_IN_ORDER.arguments(query.cursor)
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT event_id, action, actor, occurred_at, details FROM read.storage_audit "
                "WHERE folder_id = $1 AND ($2::timestamptz IS NULL OR (occurred_at, event_id) > "
                "($2, $3::uuid)) ORDER BY occurred_at, event_id LIMIT $4",
                row["folder_id"],
                *after,
                query.limit + 1,
            )
        # asyncpg hands jsonb over as its text: decode it, or the client gets a string.
        items = [dict(r) | {"details": orjson.loads(r["details"])} for r in rows]
        return json(AUDIT_IN_ORDER.page(items, query.limit))

    errors = (400, 401, 403, 404, 409, 413, 422)
    return [
        Endpoint(
            "POST",
            "/api/orgs/{org_id}/storage/folders",
            register,
            "Bind a folder of the studio's storage (local, google_drive, s3)",
            "storage",
            status=201,
            body=RegisterFolder,
            response=FolderWritten,
            errors=errors,
            response_headers={"Location": "The new folder's URL"},
        ),
        Endpoint(
            "GET",
            "/api/orgs/{org_id}/storage/folders",
            list_folders,
            "The studio's folders",
            "storage",
            response=FolderView,
            query=PageQuery,
            paged=True,
            errors=(401, 403, 404, 409, 422),
        ),
        Endpoint(
            "GET",
            "/api/storage/folders/{folder_id}",
            get_folder,
            "A folder, its file count and its latest sync",
            "storage",
            response=FolderView,
            errors=(401, 404, 409),
        ),
        Endpoint(
            "POST",
            "/api/storage/folders/{folder_id}/sync",
            sync,
            "Start a sync (a running one is joined); progress shows on the folder",
            "storage",
            status=202,
            body=StartSync,
            response=SyncAccepted,
            errors=errors,
            headers={"If-Match": if_match_header("folder")},
        ),
        Endpoint(
            "GET",
            "/api/storage/folders/{folder_id}/photos",
            photos,
            "The folder's photos, by path and name",
            "storage",
            response=PhotoView,
            query=PageQuery,
            paged=True,
            errors=(401, 404, 409, 422),
        ),
        Endpoint(
            "GET",
            "/api/storage/folders/{folder_id}/audit",
            audit,
            "Every storage action on the folder",
            "storage",
            response=AuditEntry,
            query=PageQuery,
            paged=True,
            errors=(401, 404, 409, 422),
        ),
    ]


async def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return bool(length and length != "0") or "chunked" in request.headers.get(
        "transfer-encoding", ""
    )
