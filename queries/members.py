"""Studio membership routes: members, roles, invitations and joining.

Commands go to the Organization aggregate, whose own member list decides who may run them (a
non-member gets a 404, a member without the right role a 403); each honours ``If-Match``.
Reads come from the read tables (send ``X-Consistency-Token`` to read your own writes).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from domains.policies import Action
from queries.auth import Callers
from queries.bodies import path_uuid, read_body, read_query
from queries.conditional import expected_version
from queries.org_models import (
    IF_MATCH,
    ChangeRole,
    InvitationView,
    InvitationWritten,
    Invite,
    Joined,
    Member,
    OrgWritten,
    written,
)
from queries.paging import PageQuery, SortKey
from queries.ports import EventHistoryPort, OrgCommandsPort
from queries.routing import Endpoint, json

MEMBERS_IN_ORDER = SortKey(("joined_at", "user_id"), (datetime, UUID))
INVITATIONS_IN_ORDER = SortKey(("created_at", "invitation_id"), (datetime, UUID))


def member_endpoints(
    commands: OrgCommandsPort,
    pool: asyncpg.Pool,
    max_body: int,
    history: EventHistoryPort | None = None,
) -> list[Endpoint]:
    callers = Callers(history)

    async def list_members(request: Request) -> Response:
        query = read_query(request, PageQuery)
        _, org_id = await callers.in_studio(request, Action.VIEW)
        after = MEMBERS_IN_ORDER.arguments(query.cursor)
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT m.user_id, u.email, u.name, m.role, m.joined_at "
                "FROM read.memberships m LEFT JOIN read.users u USING (user_id) "
                "WHERE m.org_id = $1 "
                "AND ($2::timestamptz IS NULL OR (m.joined_at, m.user_id) > ($2, $3::uuid)) "
                "ORDER BY m.joined_at, m.user_id LIMIT $4",
                org_id,
                *after,
                query.limit + 1,
            )
        return json(MEMBERS_IN_ORDER.page([dict(r) for r in rows], query.limit))

    async def invite(request: Request) -> Response:
        principal = await callers.principal(request, roles=False)
        org_id = path_uuid(request, "org_id")
        body = await read_body(request, Invite, max_body)
        issued = await commands.invite(
            org_id, body.email, body.role.value, principal.user_id, expected_version(request)
        )
        return json(written(issued.written, invitation_id=issued.invitation_id), 201)

    async def list_invitations(request: Request) -> Response:
        query = read_query(request, PageQuery)
        _, org_id = await callers.in_studio(request, Action.INVITE)
        after = INVITATIONS_IN_ORDER.arguments(query.cursor)
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT invitation_id, email, role, status, expires_at, created_at "
                "FROM read.invitations WHERE org_id = $1 "
                "AND ($2::timestamptz IS NULL OR (created_at, invitation_id) > ($2, $3::uuid)) "
                "ORDER BY created_at, invitation_id LIMIT $4",
                org_id,
                *after,
                query.limit + 1,
            )
        return json(INVITATIONS_IN_ORDER.page([dict(r) for r in rows], query.limit))

    async def revoke_invitation(request: Request) -> Response:
        principal = await callers.principal(request, roles=False)
        result = await commands.revoke_invitation(
            path_uuid(request, "org_id"),
            path_uuid(request, "invitation_id"),
            principal.user_id,
            expected_version(request),
        )
        return json(written(result))

    async def accept(request: Request) -> Response:
        principal = await callers.principal(request, roles=False)
        joined = await commands.accept(
            request.path_params["token"],
            principal.user_id,
            principal.email,
            expected_version(request),
        )
        return json(written(joined.written, role=joined.role))

    async def change_role(request: Request) -> Response:
        principal = await callers.principal(request, roles=False)
        body = await read_body(request, ChangeRole, max_body)
        result = await commands.change_role(
            path_uuid(request, "org_id"),
            path_uuid(request, "user_id"),
            body.role.value,
            principal.user_id,
            expected_version(request),
        )
        return json(written(result))

    async def remove_member(request: Request) -> Response:
        principal = await callers.principal(request, roles=False)
        result = await commands.remove_member(
            path_uuid(request, "org_id"),
            path_uuid(request, "user_id"),
            principal.user_id,
            expected_version(request),
        )
        return json(written(result))

    write_errors = (400, 401, 403, 404, 409, 413, 422)
    read_errors = (400, 401, 403, 404, 409, 422)
    return [
        Endpoint(
            "GET",
            "/api/orgs/{org_id}/members",
            list_members,
            "The studio's members",
            "orgs",
            response=Member,
            query=PageQuery,
            paged=True,
            errors=read_errors,
        ),
        Endpoint(
            "POST",
            "/api/orgs/{org_id}/invitations",
            invite,
            "Invite someone by email; the link goes out through the Sender",
            "orgs",
            status=201,
            body=Invite,
            response=InvitationWritten,
            errors=write_errors,
            headers={"If-Match": IF_MATCH},
        ),
        Endpoint(
            "GET",
            "/api/orgs/{org_id}/invitations",
            list_invitations,
            "The studio's invitations (admins)",
            "orgs",
            response=InvitationView,
            query=PageQuery,
            paged=True,
            errors=read_errors,
        ),
        Endpoint(
            "DELETE",
            "/api/orgs/{org_id}/invitations/{invitation_id}",
            revoke_invitation,
            "Revoke a pending invitation",
            "orgs",
            response=OrgWritten,
            errors=write_errors,
            headers={"If-Match": IF_MATCH},
        ),
        Endpoint(
            "POST",
            "/api/invitations/{token}/accept",
            accept,
            "Join a studio with the token from an invitation email",
            "orgs",
            response=Joined,
            errors=(401, 404, 409),
            headers={"If-Match": IF_MATCH},
        ),
        Endpoint(
            "PATCH",
            "/api/orgs/{org_id}/members/{user_id}",
            change_role,
            "Change a member's role",
            "orgs",
            body=ChangeRole,
            response=OrgWritten,
            errors=write_errors,
            headers={"If-Match": IF_MATCH},
        ),
        Endpoint(
            "DELETE",
            "/api/orgs/{org_id}/members/{user_id}",
            remove_member,
            "Remove a member, or leave (your own user id); a studio keeps one owner",
            "orgs",
            response=OrgWritten,
            errors=write_errors,
            headers={"If-Match": IF_MATCH},
        ),
    ]
