"""Read table ``read.users``: accounts as ``GET /api/me`` and member lists show them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar
from uuid import UUID

import asyncpg

from broker.envelope import Event
from broker.topics import USERS
from projections.base import SET_BASED_FROM, Staging, Statement, StatementProjection

USER_STATEMENTS: dict[str, Statement] = {
    "UserRegistered": (
        "INSERT INTO read.users (user_id, email, name, active, created_at) "
        "VALUES ($1, $2, $3, true, $4) ON CONFLICT (user_id) DO NOTHING",
        lambda e: (e.aggregate_id, e.data["email"], e.data["name"], e.occurred_at),
    ),
    "UserSignedIn": (
        "UPDATE read.users SET last_sign_in_at = $2 WHERE user_id = $1",
        lambda e: (e.aggregate_id, e.occurred_at),
    ),
    "UserDeactivated": (
        "UPDATE read.users SET active = false WHERE user_id = $1",
        lambda e: (e.aggregate_id,),
    ),
}


COLUMNS = (
    ("user_id", "uuid"),
    ("email", "text"),
    ("name", "text"),
    ("active", "boolean"),
    ("created_at", "timestamptz"),
    ("last_sign_in_at", "timestamptz"),
)
STAGING = Staging("users_staging", COLUMNS)
MERGE = f"""
    INSERT INTO read.users ({", ".join(c for c, _ in COLUMNS)})
    SELECT {", ".join(c for c, _ in COLUMNS)} FROM {STAGING.table} ORDER BY user_id
    ON CONFLICT (user_id) DO UPDATE SET active = EXCLUDED.active,
        last_sign_in_at = EXCLUDED.last_sign_in_at
"""


async def _fold(conn: asyncpg.Connection, events: Sequence[Event]) -> dict[UUID, list[Any]]:
    """Each touched user's row after the batch, the statements replayed in memory."""
    ids = list({e.aggregate_id for e in events if e.type in USER_STATEMENTS})
    rows: dict[UUID, list[Any]] = {
        r["user_id"]: list(r)
        for r in await conn.fetch(
            "SELECT user_id, email, name, active, created_at, last_sign_in_at FROM read.users"
            " WHERE user_id = ANY($1::uuid[])",
            ids,
        )
    }
    for e in events:
        row = rows.get(e.aggregate_id)
        if e.type == "UserRegistered" and row is None:
            rows[e.aggregate_id] = [
                e.aggregate_id,
                e.data["email"],
                e.data["name"],
                True,
                e.occurred_at,
                None,
            ]
        elif e.type == "UserSignedIn" and row is not None:
            row[5] = e.occurred_at
        elif e.type == "UserDeactivated" and row is not None:
            row[3] = False
    return rows


class UsersProjection(StatementProjection):
    name: ClassVar[str] = "users"
    topics: ClassVar[tuple[str, ...]] = (USERS.topic,)
    tables: ClassVar[tuple[str, ...]] = ("read.users",)
    statements: ClassVar[dict[str, Statement]] = USER_STATEMENTS

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        """A statement per event for a few; for many, one COPY merge of the folded rows."""
        if len(events) < SET_BASED_FROM:
            return await super().apply(conn, events)
        rows = await _fold(conn, events)
        if rows:
            await STAGING.load(conn, rows.values())
            await conn.execute(MERGE)

    async def create_tables(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            """
            CREATE SCHEMA IF NOT EXISTS read;
            CREATE TABLE IF NOT EXISTS read.users (
                user_id uuid PRIMARY KEY,
                email text NOT NULL,
                name text NOT NULL,
                active boolean NOT NULL,
                created_at timestamptz NOT NULL,
                last_sign_in_at timestamptz
            );
            """
        )
