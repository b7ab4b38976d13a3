"""Read table ``read.album_activity``: what happened to each album, who did it, newest last.

One row per workflow step, share, sync, comment and editing status; picks and ratings are
summed into the album's counts instead, so a client clicking through 300 photos does not bury
the steps that matter. A workflow step's ``activity`` is the command that made it (``submit``,
``deliver``...), whether it arrives as its named event or, replayed from an old message, as
``AlbumStateChanged``: one vocabulary in the table either way.

Sealed personal data is opened as in ``projections.albums`` (its own ``album_activity_guests``
remembers the guests); ``AlbumClientForgotten`` turns guests into their stand-ins and the
client's comments and notes into ``[forgotten]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import asyncpg
import orjson

from broker.envelope import Event
from broker.topics import ALBUMS
from domains.personal_data import FORGOTTEN
from infra import client_keys
from projections.albums import guests_ddl, open_events
from projections.base import Statement, StatementProjection

GUESTS = "read.album_activity_guests"

INSERT = (
    "INSERT INTO read.album_activity (event_id, album_id, org_id, activity, actor, occurred_at,"
    " details) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (event_id) DO NOTHING"
)


def _row(activity: str | None, *fields: str) -> Statement:
    def arguments(e: Event) -> tuple[Any, ...]:
        name = activity or str(e.data.get("command"))
        details = {f: e.data.get(f) for f in fields}
        return (
            e.id,
            e.aggregate_id,
            e.org_id,
            name,
            e.actor,
            e.occurred_at,
            orjson.dumps(details, default=str).decode(),
        )

    return INSERT, arguments


ACTIVITY_STATEMENTS: dict[str, Statement | tuple[Statement, ...]] = {
    "AlbumCreated": _row("created", "title"),
    "AlbumSyncRequested": _row("sync requested", "folder_id"),
    "AlbumSyncFinished": _row("photos updated", "photo_count"),
    "AlbumShared": _row("shared", "expires_at", "allow_download", "watermark"),
    "AlbumCommentAdded": _row("commented", "photo_id", "author", "text"),
    "AlbumShareRevoked": _row("share revoked"),
    "AlbumSelectionSubmitted": _row("submit"),
    "AlbumEditingStarted": _row("start_editing"),
    "AlbumDelivered": _row("deliver"),
    "AlbumChangesRequested": _row("request_changes", "note"),
    "AlbumApproved": _row("approve"),
    "AlbumArchived": _row("archive"),
    "AlbumReopened": _row("reopen", "state"),
    # Published before the store's upcaster named every step; still on the topic for replays.
    "AlbumStateChanged": _row(None, "state", "note"),
    "AlbumProcStatusSet": _row("editing status", "photo_id", "status"),
    "AlbumTagged": _row("tagged", "tags"),
    "AlbumUntagged": _row("untagged", "tag", "tags"),
    "AlbumClientForgotten": (
        (
            f"UPDATE read.album_activity a SET actor = coalesce((SELECT 'client:' || g.label"
            f" FROM {GUESTS} g WHERE g.album_id = $1 AND 'client:' || g.name = a.actor), a.actor),"
            " details = a.details || CASE WHEN a.details ? 'author' THEN jsonb_build_object("
            f"'author', coalesce((SELECT 'client:' || g.label FROM {GUESTS} g WHERE g.album_id"
            " = $1 AND 'client:' || g.name = a.details->>'author'), a.details->>'author'))"
            " ELSE '{}'::jsonb END"
            " || CASE WHEN a.details ? 'text' THEN jsonb_build_object('text', $2::text)"
            " ELSE '{}'::jsonb END"
            " || CASE WHEN a.details->>'note' IS NOT NULL THEN jsonb_build_object('note',"
            " $2::text) ELSE '{}'::jsonb END"
            " WHERE a.album_id = $1 AND a.actor LIKE 'client:%'",
            lambda e: (e.aggregate_id, FORGOTTEN),
        ),
        (f"DELETE FROM {GUESTS} WHERE album_id = $1", lambda e: (e.aggregate_id,)),
        _row("forget_client"),
    ),
}


class AlbumActivityProjection(StatementProjection):
    name: ClassVar[str] = "album_activity"
    schema_version: ClassVar[int] = 2  # 2: sealed personal data (album_activity_guests)
    topics: ClassVar[tuple[str, ...]] = (ALBUMS.topic,)
    tables: ClassVar[tuple[str, ...]] = ("read.album_activity", GUESTS)
    statements: ClassVar[dict[str, Statement | tuple[Statement, ...]]] = ACTIVITY_STATEMENTS

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        await super().apply(conn, await open_events(conn, events, GUESTS))

    async def create_tables(self, conn: asyncpg.Connection) -> None:
        await client_keys.install(conn)
        await conn.execute(
            """
            CREATE SCHEMA IF NOT EXISTS read;
            CREATE TABLE IF NOT EXISTS read.album_activity (
                event_id uuid PRIMARY KEY,
                album_id uuid NOT NULL,
                org_id uuid NOT NULL,
                activity text NOT NULL,
                actor text,
                occurred_at timestamptz NOT NULL,
                details jsonb NOT NULL
            );
            CREATE INDEX IF NOT EXISTS album_activity_idx
                ON read.album_activity (album_id, occurred_at, event_id);
            """
        )
        await conn.execute(guests_ddl(GUESTS))
