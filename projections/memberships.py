"""Read tables ``read.memberships`` and ``read.invitations``: who belongs to which studio.

The gate reads memberships on every request to know the caller's studios and roles.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import asyncpg

from broker.topics import ORGS
from projections.base import Statement, StatementProjection

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


class MembershipsProjection(StatementProjection):
    name: ClassVar[str] = "memberships"
    topics: ClassVar[tuple[str, ...]] = (ORGS.topic,)
    tables: ClassVar[tuple[str, ...]] = ("read.memberships", "read.invitations")
    statements: ClassVar[dict[str, Statement]] = MEMBERSHIP_STATEMENTS

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
