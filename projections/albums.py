"""Read tables ``read.albums``, ``read.album_photos`` and ``read.album_comments``.

Ratings and colours are kept per guest (``album_photos.ratings``: guest -> rating, colour),
like picks; ``rating`` and ``color`` summarise them for the photographer.

One projection keeps all three, so an album's counts (photos, picks, comments) change in the
same transaction as the rows they count. It also reads StorageFolderSyncProgress, so an album
shows its folder's sync progress while it syncs.

Personal data arrives sealed (``domains.personal_data``): each batch is opened with the album
clients' keys (``photoflow.client_keys``, read in the batch's own transaction) and the rows hold
plain names and texts. ``read.album_guests`` remembers which sealed guest each name came from;
``AlbumClientForgotten`` then replaces every name with the guest's forgotten stand-in and every
text with ``[forgotten]``, exactly what a replay without the key writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

import asyncpg
import orjson

from broker.envelope import Event, replaced
from broker.topics import ALBUMS, FOLDER_SYNC_PROGRESS
from domains.album_workflow import (
    APPROVED,
    ARCHIVED,
    CHANGES_REQUESTED,
    DELIVERED,
    EDITING,
    SUBMITTED,
)
from domains.personal_data import (
    FORGOTTEN,
    GUEST_PREFIX,
    forgotten_guest,
    has_sealed,
    is_sealed,
    open_actor,
    open_data,
    open_guest,
)
from infra import client_keys
from projections.base import Statement, StatementProjection


async def open_events(
    conn: asyncpg.Connection, events: Sequence[Event], guests_table: str
) -> list[Event]:
    """The batch with every sealed value opened (or shown forgotten, without its key); each
    guest opened is remembered in ``guests_table`` (album, sealed, name, stand-in)."""
    sealed_albums = {e.aggregate_id for e in events if has_sealed(e.type, e.data, e.actor)}
    if not sealed_albums:
        return list(events)
    keys = await client_keys.keys_in(conn, sealed_albums)
    opened: list[Event] = []
    guests: dict[tuple[Any, str], tuple[Any, ...]] = {}
    for e in events:
        if e.aggregate_id not in sealed_albums:
            opened.append(e)
            continue
        key = keys.get(e.aggregate_id)
        actor = e.actor or ""
        sealed = actor[len(GUEST_PREFIX) :]
        if key is not None and actor.startswith(GUEST_PREFIX) and is_sealed(sealed):
            guests[(e.aggregate_id, sealed)] = (
                e.aggregate_id,
                sealed,
                open_guest(sealed, key),
                forgotten_guest(sealed),
            )
        update = {"data": open_data(e.type, e.data, key), "actor": open_actor(e.actor, key)}
        opened.append(replaced(e, **update))
    if guests:
        await conn.executemany(
            f"INSERT INTO {guests_table} (album_id, guest, name, label) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING",
            list(guests.values()),
        )
    return opened


def guests_ddl(table: str) -> str:
    """The table of guests opened so far, per album: what forgetting replaces, and with what."""
    return f"""
        CREATE TABLE IF NOT EXISTS {table} (
            album_id uuid NOT NULL,
            guest text NOT NULL,
            name text NOT NULL,
            label text NOT NULL,
            PRIMARY KEY (album_id, guest)
        );
    """


def _forgotten(e: Event) -> tuple[Any, ...]:
    return (e.aggregate_id, FORGOTTEN)


FORGET_STATEMENTS: tuple[Statement, ...] = (
    (
        # the share link dies with the client (AlbumClientForgotten revokes it)
        "UPDATE read.albums SET client_name = $2, client_email = $2, client_forgotten = true,"
        " share_expires_at = NULL, allow_download = false, share_nonce = NULL, watermark = false"
        " WHERE album_id = $1",
        _forgotten,
    ),
    (
        "UPDATE read.album_photos p SET picked_by = ARRAY(SELECT coalesce(g.label, u.x)"
        " FROM unnest(p.picked_by) WITH ORDINALITY AS u(x, n) LEFT JOIN read.album_guests g"
        " ON g.album_id = $1 AND g.name = u.x ORDER BY u.n),"
        " ratings = (SELECT coalesce(jsonb_object_agg(coalesce(g.label, r.key), r.value),"
        " '{}'::jsonb) FROM jsonb_each(p.ratings) AS r LEFT JOIN read.album_guests g"
        " ON g.album_id = $1 AND g.name = r.key) WHERE p.album_id = $1",
        lambda e: (e.aggregate_id,),
    ),
    (
        "UPDATE read.album_comments c SET text = $2, author = coalesce((SELECT 'client:' ||"
        " g.label FROM read.album_guests g WHERE g.album_id = $1 AND 'client:' || g.name ="
        " c.author), c.author) WHERE c.album_id = $1 AND c.author LIKE 'client:%'",
        _forgotten,
    ),
    ("DELETE FROM read.album_guests WHERE album_id = $1", lambda e: (e.aggregate_id,)),
)
"""Every name a guest was shown by becomes its stand-in, every client text ``[forgotten]``."""

RECOUNT_PICKS: Statement = (
    "UPDATE read.albums SET selection_count = (SELECT count(*) FROM read.album_photos p"
    " WHERE p.album_id = $1 AND cardinality(p.picked_by) > 0) WHERE album_id = $1",
    lambda e: (e.aggregate_id,),
)


def _photos_added(e: Event) -> tuple[Any, ...]:
    photos = e.data["photos"]
    return (
        e.aggregate_id,
        [p["photo_id"] for p in photos],
        [p["file_id"] for p in photos],
        [p["name"] for p in photos],
    )


def _rated(e: Event) -> tuple[Any, ...]:
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
        # The album's count moves only when a photo gets its first picker: counting the
        # album's photos again for every pick cost PostgreSQL 3 ms a pick at 15,000 photos.
        "WITH picked AS (UPDATE read.album_photos SET picked_by = array_append(picked_by, $2)"
        " WHERE photo_id = $1 AND NOT ($2 = ANY(picked_by))"
        " RETURNING cardinality(picked_by) = 1 AS first)"
        " UPDATE read.albums SET selection_count = selection_count + 1"
        " WHERE album_id = $3 AND EXISTS (SELECT FROM picked WHERE first)",
        lambda e: (e.data["photo_id"], e.data["guest"], e.aggregate_id),
    ),
    "AlbumPhotoDeselected": (
        "WITH unpicked AS (UPDATE read.album_photos SET picked_by = array_remove(picked_by, $2)"
        " WHERE photo_id = $1 AND $2 = ANY(picked_by)"
        " RETURNING cardinality(picked_by) = 0 AS last)"
        " UPDATE read.albums SET selection_count = selection_count - 1"
        " WHERE album_id = $3 AND EXISTS (SELECT FROM unpicked WHERE last)",
        lambda e: (e.data["photo_id"], e.data["guest"], e.aggregate_id),
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
    "AlbumClientForgotten": FORGET_STATEMENTS,
    "StorageFolderSyncProgress": (
        "UPDATE read.albums SET sync_processed = $2, sync_total = $3"
        " WHERE folder_id = $1 AND status = 'syncing'",
        lambda e: (e.aggregate_id, e.data["processed"], e.data["total"]),
    ),
}


class AlbumsProjection(StatementProjection):
    name: ClassVar[str] = "albums"
    # 2: created_by, share_nonce; 3: ratings per guest; 4: the link's watermark switch;
    # 5: sealed personal data (album_guests, client_forgotten); 6: forgetting ends the link
    schema_version: ClassVar[int] = 6
    topics: ClassVar[tuple[str, ...]] = (ALBUMS.topic, FOLDER_SYNC_PROGRESS)
    tables: ClassVar[tuple[str, ...]] = (
        "read.albums",
        "read.album_photos",
        "read.album_comments",
        "read.album_guests",
    )
    statements: ClassVar[dict[str, Statement | tuple[Statement, ...]]] = ALBUM_STATEMENTS
    each_aggregate: ClassVar[Statement | None] = (
        "UPDATE read.albums SET version = $2, updated_at = $3 WHERE album_id = $1",
        lambda e: (e.aggregate_id, e.version, e.occurred_at),
    )

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        await super().apply(conn, await open_events(conn, events, "read.album_guests"))

    async def create_tables(self, conn: asyncpg.Connection) -> None:
        await client_keys.install(conn)
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
                client_forgotten boolean NOT NULL DEFAULT false,
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
        await conn.execute(guests_ddl("read.album_guests"))
