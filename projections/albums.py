"""Read tables ``read.albums``, ``read.album_photos`` and ``read.album_comments``.

Ratings and colours are kept per guest (``album_photos.ratings``: guest -> rating, colour),
like picks; ``rating`` and ``color`` summarise them for the photographer.

One projection keeps all three, so an album's counts (photos, picks, comments) change in the
same transaction as the rows they count. It also reads StorageFolderSyncProgress, so an album
shows its folder's sync progress while it syncs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import asyncpg
import orjson

from broker.envelope import Envelope
from broker.topics import ALBUMS, FOLDER_SYNC_PROGRESS
from domains.album_workflow import (
    APPROVED,
    ARCHIVED,
    CHANGES_REQUESTED,
    DELIVERED,
    EDITING,
    SUBMITTED,
)
from projections.base import Statement, StatementProjection

RECOUNT_PICKS: Statement = (
    "UPDATE read.albums SET selection_count = (SELECT count(*) FROM read.album_photos p"
    " WHERE p.album_id = $1 AND cardinality(p.picked_by) > 0) WHERE album_id = $1",
    lambda e: (e.aggregate_id,),
)


def _photos_added(e: Envelope) -> tuple[Any, ...]:
    photos = e.data["photos"]
    return (
        e.aggregate_id,
        [p["photo_id"] for p in photos],
        [p["file_id"] for p in photos],
        [p["name"] for p in photos],
    )


def _rated(e: Envelope) -> tuple[Any, ...]:
    guest = {"rating": e.data["rating"], "color": e.data["color"]}
    return (e.data["photo_id"], orjson.dumps({e.data["guest"]: guest}).decode(), e.data["color"])


STEPS = {
    "SelectionSubmitted": SUBMITTED,
    "EditingStarted": EDITING,
    "Delivered": DELIVERED,
    "ChangesRequested": CHANGES_REQUESTED,
    "Approved": APPROVED,
    "Archived": ARCHIVED,
}
"""The workflow events that move an album to a fixed state; Reopened names its own."""


def _status(state: str | None) -> Statement:
    """The album's status after a workflow step: fixed by its type, or the event's ``state``."""
    return (
        "UPDATE read.albums SET status = $2 WHERE album_id = $1",
        lambda e: (e.aggregate_id, state or e.data["state"]),
    )


def _when(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


ALBUM_STATEMENTS: dict[str, Statement | tuple[Statement, ...]] = {
    "AlbumCreated": (
        "INSERT INTO read.albums (album_id, org_id, title, status, tags, client_name,"
        " client_email, folder_id, selection_limit, created_at, updated_at, version, created_by)"
        " VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9, $9, 1, $10)"
        " ON CONFLICT (album_id) DO NOTHING",
        lambda e: (
            e.aggregate_id,
            e.org_id,
            e.data["title"],
            e.data["tags"],
            e.data["client"]["name"],
            e.data["client"]["email"],
            e.data["folder_id"],
            e.data["selection_limit"],
            e.occurred_at,
            e.actor,
        ),
    ),
    "AlbumSyncRequested": (
        "UPDATE read.albums SET status = 'syncing', sync_processed = 0, sync_total = NULL"
        " WHERE album_id = $1",
        lambda e: (e.aggregate_id,),
    ),
    "AlbumPhotosAdded": (
        "INSERT INTO read.album_photos (album_id, photo_id, file_id, name)"
        " SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[])"
        " ON CONFLICT (photo_id) DO UPDATE SET name = EXCLUDED.name",
        _photos_added,
    ),
    "AlbumPhotosRemoved": (
        "DELETE FROM read.album_photos WHERE photo_id = ANY($1::uuid[])",
        lambda e: (e.data["photo_ids"],),
    ),
    "AlbumSyncFinished": (
        (
            "UPDATE read.albums SET status = $2, photo_count = $3 WHERE album_id = $1",
            lambda e: (e.aggregate_id, e.data["state"], e.data["photo_count"]),
        ),
        RECOUNT_PICKS,
    ),
    "AlbumShared": (
        "UPDATE read.albums SET status = 'shared', share_expires_at = $2, allow_download = $3,"
        " share_nonce = $4, watermark = $5 WHERE album_id = $1",
        lambda e: (
            e.aggregate_id,
            _when(e.data["expires_at"]),
            e.data["allow_download"],
            e.data.get("nonce"),
            e.data.get("watermark", False),
        ),
    ),
    "AlbumPhotoSelected": (
        (
            "UPDATE read.album_photos SET picked_by = array_append(picked_by, $2)"
            " WHERE photo_id = $1 AND NOT ($2 = ANY(picked_by))",
            lambda e: (e.data["photo_id"], e.data["guest"]),
        ),
        RECOUNT_PICKS,
    ),
    "AlbumPhotoDeselected": (
        (
            "UPDATE read.album_photos SET picked_by = array_remove(picked_by, $2)"
            " WHERE photo_id = $1",
            lambda e: (e.data["photo_id"], e.data["guest"]),
        ),
        RECOUNT_PICKS,
    ),
    "AlbumShareRevoked": (
        "UPDATE read.albums SET share_expires_at = NULL, allow_download = false,"
        " share_nonce = NULL, watermark = false WHERE album_id = $1",
        lambda e: (e.aggregate_id,),
    ),
    "AlbumPhotoRated": (
        # Per guest, like picks: the photographer's summary is the highest rating any guest
        # gave, and the colour of the latest rating.
        "UPDATE read.album_photos SET ratings = ratings || $2::jsonb,"
        " rating = (SELECT max((r.value->>'rating')::int)"
        " FROM jsonb_each(ratings || $2::jsonb) AS r), color = $3 WHERE photo_id = $1",
        _rated,
    ),
    "AlbumCommentAdded": (
        (
            "INSERT INTO read.album_comments (comment_id, album_id, photo_id, author, text,"
            " created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            lambda e: (
                e.data["comment_id"],
                e.aggregate_id,
                e.data["photo_id"],
                e.data["author"],
                e.data["text"],
                e.occurred_at,
            ),
        ),
        (
            "UPDATE read.album_photos SET comment_count = comment_count + 1 WHERE photo_id = $1",
            lambda e: (e.data["photo_id"],),
        ),
        (
            "UPDATE read.albums SET comment_count = comment_count + 1 WHERE album_id = $1",
            lambda e: (e.aggregate_id,),
        ),
    ),
    **{f"Album{name}": _status(state) for name, state in STEPS.items()},
    "AlbumReopened": _status(None),
    # Published before the store's upcaster named every step; still on the topic for replays.
    "AlbumStateChanged": _status(None),
    "AlbumProcStatusSet": (
        "UPDATE read.album_photos SET proc_status = $2 WHERE photo_id = $1",
        lambda e: (e.data["photo_id"], e.data["status"]),
    ),
    "AlbumTagged": (
        "UPDATE read.albums SET tags = $2 WHERE album_id = $1",
        lambda e: (e.aggregate_id, e.data["tags"]),
    ),
    "AlbumUntagged": (
        "UPDATE read.albums SET tags = $2 WHERE album_id = $1",
        lambda e: (e.aggregate_id, e.data["tags"]),
    ),
    "StorageFolderSyncProgress": (
        "UPDATE read.albums SET sync_processed = $2, sync_total = $3"
        " WHERE folder_id = $1 AND status = 'syncing'",
        lambda e: (e.aggregate_id, e.data["processed"], e.data["total"]),
    ),
}


class AlbumsProjection(StatementProjection):
    name: ClassVar[str] = "albums"
    # 2: created_by, share_nonce; 3: ratings per guest; 4: the link's watermark switch
    schema_version: ClassVar[int] = 4
    topics: ClassVar[tuple[str, ...]] = (ALBUMS.topic, FOLDER_SYNC_PROGRESS)
    tables: ClassVar[tuple[str, ...]] = ("read.albums", "read.album_photos", "read.album_comments")
    statements: ClassVar[dict[str, Statement | tuple[Statement, ...]]] = ALBUM_STATEMENTS
    every_event: ClassVar[Statement | None] = (
        "UPDATE read.albums SET version = $2, updated_at = $3 WHERE album_id = $1",
        lambda e: (e.aggregate_id, e.version, e.occurred_at),
    )

    async def create_tables(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            """
            CREATE SCHEMA IF NOT EXISTS read;
            CREATE TABLE IF NOT EXISTS read.albums (
                album_id uuid PRIMARY KEY,
                org_id uuid NOT NULL,
                title text NOT NULL,
                status text NOT NULL,
                tags text[] NOT NULL,
                client_name text NOT NULL,
                client_email text NOT NULL,
                folder_id uuid,
                photo_count int NOT NULL DEFAULT 0,
                selection_count int NOT NULL DEFAULT 0,
                selection_limit int,
                comment_count int NOT NULL DEFAULT 0,
                sync_processed bigint,
                sync_total bigint,
                share_expires_at timestamptz,
                allow_download boolean NOT NULL DEFAULT false,
                watermark boolean NOT NULL DEFAULT false,
                share_nonce text,
                created_by text,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                version bigint NOT NULL
            );
            CREATE INDEX IF NOT EXISTS albums_org_idx ON read.albums (org_id, created_at, album_id);
            CREATE INDEX IF NOT EXISTS albums_folder_idx ON read.albums (folder_id);
            CREATE TABLE IF NOT EXISTS read.album_photos (
                photo_id uuid PRIMARY KEY,
                album_id uuid NOT NULL,
                file_id text NOT NULL,
                name text NOT NULL,
                picked_by text[] NOT NULL DEFAULT '{}',
                rating int,
                color text,
                ratings jsonb NOT NULL DEFAULT '{}',
                comment_count int NOT NULL DEFAULT 0,
                proc_status text NOT NULL DEFAULT 'pending'
            );
            CREATE INDEX IF NOT EXISTS album_photos_page_idx
                ON read.album_photos (album_id, name, photo_id);
            CREATE TABLE IF NOT EXISTS read.album_comments (
                comment_id uuid PRIMARY KEY,
                album_id uuid NOT NULL,
                photo_id uuid NOT NULL,
                author text NOT NULL,
                text text NOT NULL,
                created_at timestamptz NOT NULL
            );
            CREATE INDEX IF NOT EXISTS album_comments_idx
                ON read.album_comments (album_id, created_at, comment_id);
            """
        )
