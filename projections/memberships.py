"""Read tables ``read.memberships`` and ``read.invitations``: who belongs to which studio.

The gate reads memberships on every request to know the caller's studios and roles.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import asyncpg

from broker.envelope import Event
from broker.topics import ORGS
from projections.base import SET_BASED_FROM, Staging, Statement, StatementProjection

MEMBERSHIP_STATEMENTS: dict[str, Statement] = {
    "OrganizationMemberAdded": (
        "INSERT INTO read.memberships (org_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role",
        lambda e: (e.aggregate_id, e.data["user_id"], e.data["role"], e.occurred_at),
    ),
    "OrganizationMemberRoleChanged": (
        "UPDATE read.memberships SET role = $3 WHERE org_id = $1 AND user_id = $2",
        lambda e: (e.aggregate_id, e.data["user_id"], e.data["role"]),
    ),
    "OrganizationMemberRemoved": (
        "DELETE FROM read.memberships WHERE org_id = $1 AND user_id = $2",
        lambda e: (e.aggregate_id, e.data["user_id"]),
    ),
    "OrganizationInvitationSent": (
        "INSERT INTO read.invitations (invitation_id, org_id, email, role, status, expires_at,"
        " invited_by, created_at) VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7)"
        " ON CONFLICT (invitation_id) DO NOTHING",
        lambda e: (
            e.data["invitation_id"],
            e.aggregate_id,
            e.data["email"],
            e.data["role"],
            datetime.fromisoformat(e.data["expires_at"]),
            e.actor,
            e.occurred_at,
        ),
    ),
    "OrganizationInvitationAccepted": (
        "UPDATE read.invitations SET status = 'accepted' WHERE invitation_id = $1",
        lambda e: (e.data["invitation_id"],),
    ),
    "OrganizationInvitationRevoked": (
        "UPDATE read.invitations SET status = 'revoked' WHERE invitation_id = $1",
        lambda e: (e.data["invitation_id"],),
    ),
}


MEMBERS = Staging(
    "memberships_staging",
    (("org_id", "uuid"), ("user_id", "uuid"), ("role", "text"), ("joined_at", "timestamptz")),
)
INVITATIONS = Staging(
    "invitations_staging",
    (
        ("invitation_id", "uuid"),
        ("org_id", "uuid"),
        ("email", "text"),
        ("role", "text"),
        ("status", "text"),
        ("expires_at", "timestamptz"),
        ("invited_by", "text"),
        ("created_at", "timestamptz"),
    ),
)
MERGE_MEMBERS = f"""
    INSERT INTO read.memberships (org_id, user_id, role, joined_at)
    SELECT org_id, user_id, role, joined_at FROM {MEMBERS.table} ORDER BY org_id, user_id
    ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role, joined_at = EXCLUDED.joined_at
"""
MERGE_INVITATIONS = f"""
    INSERT INTO read.invitations (invitation_id, org_id, email, role, status, expires_at,
        invited_by, created_at)
    SELECT * FROM {INVITATIONS.table} ORDER BY invitation_id
    ON CONFLICT (invitation_id) DO UPDATE SET status = EXCLUDED.status
"""

MEMBERS_BY_KEY = (
    # one lookup by the key per member (see projections.positions.VERSION_OF_ID)
    "SELECT m.org_id, m.user_id, m.role, m.joined_at"
    " FROM unnest($1::uuid[], $2::uuid[]) AS u(o, p) CROSS JOIN LATERAL"
    " (SELECT * FROM read.memberships WHERE org_id = u.o AND user_id = u.p LIMIT 1) m"
)

Member = tuple[UUID, UUID]
Row = list[Any]


async def _fold(
    conn: asyncpg.Connection, events: Sequence[Event]
) -> tuple[dict[Member, Row | None], dict[UUID, Row]]:
    """The rows the batch's events leave, each statement's effect replayed in memory on the rows
    as they are (None: deleted); only the rows the batch touches are read."""
    members = {
        (e.aggregate_id, UUID(str(e.data["user_id"])))
        for e in events
        if e.type.startswith("OrganizationMember")
    }
    invitations = {
        UUID(str(e.data["invitation_id"])) for e in events if e.type.startswith("OrganizationInv")
    }
    rows: dict[Member, Row | None] = {}
    if members:
        for r in await conn.fetch(
            MEMBERS_BY_KEY,
            [k[0] for k in members],
            [k[1] for k in members],
        ):
            rows[(r["org_id"], r["user_id"])] = list(r)
    sent: dict[UUID, Row] = {}
    if invitations:
        for r in await conn.fetch(
            "SELECT i.invitation_id, i.org_id, i.email, i.role, i.status, i.expires_at,"
            " i.invited_by, i.created_at FROM unnest($1::uuid[]) AS u(id) CROSS JOIN LATERAL"
            " (SELECT * FROM read.invitations WHERE invitation_id = u.id LIMIT 1) i",
            list(invitations),
        ):
            sent[r["invitation_id"]] = list(r)
    for e in events:
        data = e.data
        if e.type == "OrganizationMemberAdded":
            key = (e.aggregate_id, UUID(str(data["user_id"])))
            row = rows.get(key)
            if row is None:
                rows[key] = [*key, data["role"], e.occurred_at]
            else:
                row[2] = data["role"]
        elif e.type == "OrganizationMemberRoleChanged":
            row = rows.get((e.aggregate_id, UUID(str(data["user_id"]))))
            if row is not None:
                row[2] = data["role"]
        elif e.type == "OrganizationMemberRemoved":
            rows[(e.aggregate_id, UUID(str(data["user_id"])))] = None
        elif e.type == "OrganizationInvitationSent":
            ident = UUID(str(data["invitation_id"]))
            if ident not in sent:
                expires = datetime.fromisoformat(data["expires_at"])
                sent[ident] = [
                    ident,
                    e.aggregate_id,
                    data["email"],
                    data["role"],
                    "pending",
                    expires,
                    e.actor,
                    e.occurred_at,
                ]
        elif e.type in ("OrganizationInvitationAccepted", "OrganizationInvitationRevoked"):
            invitation = sent.get(UUID(str(data["invitation_id"])))
            if invitation is not None:
                invitation[4] = "accepted" if e.type.endswith("Accepted") else "revoked"
    return rows, sent


class MembershipsProjection(StatementProjection):
    name: ClassVar[str] = "memberships"
    topics: ClassVar[tuple[str, ...]] = (ORGS.topic,)
    tables: ClassVar[tuple[str, ...]] = ("read.memberships", "read.invitations")
    statements: ClassVar[dict[str, Statement]] = MEMBERSHIP_STATEMENTS

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        """A statement per event for a few; for many (a rebuild, a burst), the rows are folded
        in memory and written with one delete and two COPY merges."""
        if len(events) < SET_BASED_FROM:
            return await super().apply(conn, events)
        rows, invitations = await _fold(conn, events)
        gone = [key for key, row in rows.items() if row is None]
        if gone:
            await conn.execute(
                "DELETE FROM read.memberships m USING unnest($1::uuid[], $2::uuid[]) AS u(o, p)"
                " WHERE m.org_id = u.o AND m.user_id = u.p",
                [k[0] for k in gone],
                [k[1] for k in gone],
            )
        kept = [row for row in rows.values() if row is not None]
        if kept:
            await MEMBERS.load(conn, kept)
            await conn.execute(MERGE_MEMBERS)
        if invitations:
            await INVITATIONS.load(conn, invitations.values())
            await conn.execute(MERGE_INVITATIONS)

    async def create_tables(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            """
            CREATE SCHEMA IF NOT EXISTS read;
            CREATE TABLE IF NOT EXISTS read.memberships (
                org_id uuid NOT NULL,
                user_id uuid NOT NULL,
                role text NOT NULL,
                joined_at timestamptz NOT NULL,
                PRIMARY KEY (org_id, user_id)
            );
            CREATE INDEX IF NOT EXISTS memberships_user_idx ON read.memberships (user_id);
            CREATE TABLE IF NOT EXISTS read.invitations (
                invitation_id uuid PRIMARY KEY,
                org_id uuid NOT NULL,
                email text NOT NULL,
                role text NOT NULL,
                status text NOT NULL,
                expires_at timestamptz NOT NULL,
                invited_by text,
                created_at timestamptz NOT NULL
            );
            CREATE INDEX IF NOT EXISTS invitations_org_idx ON read.invitations (org_id, created_at);
            """
        )
