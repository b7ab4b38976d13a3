"""The album projections on the real PostgreSQL: sealed data opened with the client's key, and
forgetting it rewrites the rows exactly as a replay without the key writes them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import asyncpg
import orjson
import pytest

from broker.envelope import Envelope, describe, encode
from broker.topics import ALBUMS
from domains.album import Album, NewAlbum, photo_id_for
from domains.personal_data import FORGOTTEN, ClientKey
from infra import client_keys
from projections import positions
from projections.album_activity import AlbumActivityProjection
from projections.albums import AlbumsProjection
from projections.registry import all_projections
from tests.support.world import World, new_world

KEY = ClientKey(bytes(range(32)))
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def world(stack: None) -> AsyncIterator[World]:
    async with new_world() as w:
        yield w


def recorded_album() -> tuple[Album, list[Envelope]]:
    album = Album.create(uuid4(), NewAlbum("W", "Ann", "ann@x.io", uuid4()), "p", key=KEY)
    album.request_sync("p")
    album.update_photos([("a.jpg", "a.jpg"), ("b.jpg", "b.jpg")])
    album.share("n", "h", None, False, "p", NOW)
    a, b = photo_id_for(album.id, "a.jpg"), photo_id_for(album.id, "b.jpg")
    album.select(a, "Zoe", key=KEY)
    album.select(b, "Max", key=KEY)
    album.rate(a, "Zoe", 5, "red", key=KEY)
    album.rate(a, "Max", 2, None, key=KEY)
    album.comment(a, uuid4(), "Zoe", "Too dark", key=KEY)
    album.submit("Max", key=KEY)
    return album, [envelope(e) for e in album.collect_events()]


def envelope(event: Any) -> Envelope:
    return Envelope.model_validate_json(encode(describe(event, ALBUMS)))


async def rows(conn: asyncpg.Connection, album_id: object) -> dict[str, Any]:
    photos = await conn.fetch(
        "SELECT name, picked_by, ratings::text, rating FROM read.album_photos"
        " WHERE album_id = $1 ORDER BY name",
        album_id,
    )
    return {
        "album": dict(
            await conn.fetchrow(
                "SELECT client_name, client_email, client_forgotten, selection_count,"
                " comment_count FROM read.albums WHERE album_id = $1",
                album_id,
            )
        ),
        "photos": [
            (r["name"], sorted(r["picked_by"]), orjson.loads(r["ratings"]), r["rating"])
            for r in photos
        ],
        "comments": [
            tuple(r)
            for r in await conn.fetch(
                "SELECT author, text FROM read.album_comments WHERE album_id = $1", album_id
            )
        ],
        "activity": [
            (r["activity"], r["actor"], orjson.loads(r["details"]))
            for r in await conn.fetch(
                "SELECT activity, actor, details::text FROM read.album_activity"
                " WHERE album_id = $1 AND activity <> 'forget_client' ORDER BY occurred_at,"
                " activity",
                album_id,
            )
        ],
    }


async def test_forgetting_rewrites_the_rows_as_a_replay_without_the_key_writes_them(
    world: World,
) -> None:
    album, events = recorded_album()
    projections = (AlbumsProjection(), AlbumActivityProjection())
    conn = await asyncpg.connect(world.settings.database_url)
    try:
        await positions.create_schema(conn)
        for each in all_projections().values():
            await positions.upgrade(conn, each)
        await client_keys.install(conn)
        await conn.execute(
            "INSERT INTO photoflow.client_keys (album_id, key) VALUES ($1, $2)",
            album.id,
            KEY.secret,
        )
        for projection in projections:
            async with conn.transaction():
                await projection.apply(conn, events)
        opened = await rows(conn, album.id)
        assert opened["album"]["client_email"] == "ann@x.io"
        assert opened["photos"][0][1] == ["Zoe"] and set(opened["photos"][0][2]) == {"Zoe", "Max"}
        assert opened["comments"] == [("client:Zoe", "Too dark")]
        assert ("submit", "client:Max", {}) in opened["activity"]

        album.forget_client("owner")
        forgotten = [envelope(e) for e in album.collect_events()]
        await conn.execute(
            "UPDATE photoflow.client_keys SET key = NULL WHERE album_id = $1", album.id
        )
        for projection in projections:
            async with conn.transaction():
                await projection.apply(conn, forgotten)
        rewritten = await rows(conn, album.id)
        for projection in projections:  # a rebuild: every event again, without the key
            await projection.drop_tables(conn)
            await projection.create_tables(conn)
            async with conn.transaction():
                await projection.apply(conn, events + forgotten)
        replayed = await rows(conn, album.id)
    finally:
        await conn.close()
    assert rewritten == replayed
    assert rewritten["album"] == {
        "client_name": FORGOTTEN,
        "client_email": FORGOTTEN,
        "client_forgotten": True,
        "selection_count": 2,
        "comment_count": 1,
    }
    text = repr(rewritten)
    for personal in ("Ann", "ann@x.io", "Zoe", "Max", "Too dark"):
        assert personal not in text
    assert [p[3] for p in rewritten["photos"]] == [5, None]
    assert len(rewritten["photos"][0][2]) == 2  # two guests' ratings, still apart
