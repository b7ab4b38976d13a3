"""The album clients' data keys in PostgreSQL: table ``photoflow.client_keys``.

One row per album: its client's key, until the client is forgotten; then the key is
overwritten with NULL and ``forgotten_at`` set, so the row remains as the tombstone that keeps
a new key from ever being made for that album. The row's old bytes leave the table's files
when PostgreSQL's autovacuum reclaims them (and backups and WAL archives after their own
retention): crypto-shredding is only as fast as those.

``keys_in`` is also used by the album projections, which open sealed values with the key in
the same transaction that writes their rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import asyncpg

from commands.client_keys import new_client_key
from domains.personal_data import ClientKey

TABLE = "photoflow.client_keys"
DDL = f"""
CREATE SCHEMA IF NOT EXISTS photoflow;
CREATE TABLE IF NOT EXISTS {TABLE} (
    album_id uuid PRIMARY KEY,
    key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    forgotten_at timestamptz
);
"""


async def install(conn: asyncpg.Connection) -> None:
    await conn.execute(DDL)


async def keys_in(conn: asyncpg.Connection, album_ids: Iterable[UUID]) -> dict[UUID, ClientKey]:
    """The keys that still exist among these albums' (a forgotten album has none)."""
    rows = await conn.fetch(
        f"SELECT album_id, key FROM {TABLE} WHERE album_id = ANY($1::uuid[]) AND key IS NOT NULL",
        list(set(album_ids)),
    )
    return {r["album_id"]: ClientKey(bytes(r["key"])) for r in rows}


class PostgresClientKeys:
    """The ``ClientKeys`` port on PostgreSQL. A key to seal with, once read, stays in memory
    (keys never change) until this process destroys it: a key destroyed by another process may
    still be held here, but the album itself refuses new sealed data once its client is
    forgotten. Keys to read with are read afresh every time."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._held: dict[UUID, ClientKey] = {}

    async def put(self, album_id: UUID, key: ClientKey) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(
                f"INSERT INTO {TABLE} (album_id, key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                album_id,
                key.secret,
            )
        self._held[album_id] = key

    async def key_of(self, album_id: UUID) -> ClientKey | None:
        """Always read afresh: a reader must not open data another process just forgot."""
        async with self._pool.acquire() as conn:
            return (await keys_in(conn, [album_id])).get(album_id)

    async def key_to_seal(self, album_id: UUID) -> ClientKey | None:
        held = self._held.get(album_id)
        if held is not None:
            return held
        async with self._pool.acquire() as conn:
            # an album older than sealing gets its key now; a forgotten one's tombstone stays
            await conn.execute(
                f"INSERT INTO {TABLE} (album_id, key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                album_id,
                new_client_key().secret,
            )
            found = (await keys_in(conn, [album_id])).get(album_id)
        if found is not None:
            self._held[album_id] = found
        return found

    async def keys_of(self, album_ids: Iterable[UUID]) -> dict[UUID, ClientKey]:
        async with self._pool.acquire() as conn:
            return await keys_in(conn, album_ids)

    async def destroy(self, album_id: UUID) -> None:
        self._held.pop(album_id, None)
        async with self._pool.acquire() as conn:
            await conn.execute(
                f"INSERT INTO {TABLE} (album_id, key, forgotten_at) VALUES ($1, NULL, now())"
                " ON CONFLICT (album_id) DO UPDATE SET key = NULL,"
                " forgotten_at = coalesce(client_keys.forgotten_at, now())",
                album_id,
            )
