"""The albums read table follows picks batch by batch: the count and version the album has."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest

from domains.album import Album, NewAlbum, photo_id_for
from domains.personal_data import ClientKey
from infra import client_keys
from projections import positions
from projections.albums import AlbumsProjection
from tests.integration.test_forgotten_projection import envelope
from tests.support.world import World

KEY = ClientKey(bytes(range(32)))
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def conn(world: World) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(world.settings.database_url)
    await positions.create_schema(conn)
    await positions.upgrade(conn, AlbumsProjection())
    await client_keys.install(conn)
    try:
        yield conn
    finally:
        await conn.close()


async def project(conn: asyncpg.Connection, album: Album) -> tuple[int, int]:
    """Apply the album's new events as one batch; the read table's count and version."""
    async with conn.transaction():
        await AlbumsProjection().apply(conn, [envelope(e) for e in album.collect_events()])
    row = await conn.fetchrow(
        "SELECT selection_count, version FROM read.albums WHERE album_id = $1", album.id
    )
    assert row is not None
    return row["selection_count"], row["version"]


async def test_the_count_moves_with_a_photo_s_first_picker_and_its_last(
    conn: asyncpg.Connection,
) -> None:
    album = Album.create(uuid4(), NewAlbum("Count", "Ann", "ann@x.io", uuid4()), "p", key=KEY)
    album.request_sync("p")
    album.update_photos([(n, n) for n in ("a.jpg", "b.jpg", "c.jpg")])
    album.share("n", "h", None, False, "p", NOW)
    a, b, c = (photo_id_for(album.id, n) for n in ("a.jpg", "b.jpg", "c.jpg"))
    assert await project(conn, album) == (0, album.version)

    album.select(a, "Zoe", key=KEY)
    album.select(a, "Max", key=KEY)  # a second picker of the same photo: still one photo
    album.select(b, "Zoe", key=KEY)
    album.select(c, "Max", key=KEY)
    album.deselect(c, "Max", key=KEY)
    assert await project(conn, album) == (2, album.version)
    assert len(album.selected()) == 2

    album.deselect(a, "Zoe", key=KEY)  # Max still picks it
    album.deselect(b, "Zoe", key=KEY)
    assert await project(conn, album) == (1, album.version)

    album.deselect(a, "Max", key=KEY)
    assert await project(conn, album) == (0, album.version)
    assert album.selected() == set()
