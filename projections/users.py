"""Read table ``read.users``: accounts as ``GET /api/me`` and member lists show them."""

from __future__ import annotations

from typing import ClassVar

import asyncpg

from broker.topics import USERS
from projections.base import Statement, StatementProjection

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


class UsersProjection(StatementProjection):
    name: ClassVar[str] = "users"
    topics: ClassVar[tuple[str, ...]] = (USERS.topic,)
    tables: ClassVar[tuple[str, ...]] = ("read.users",)
    statements: ClassVar[dict[str, Statement]] = USER_STATEMENTS

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
