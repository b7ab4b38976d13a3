"""Studio routes: members, roles and invitations.

Commands go to the Organization aggregate, whose own member list decides who may run them (a
non-member gets a 404, a member without the right role a 403). Reads come from the read tables
and check the caller's role there; send ``X-Consistency-Token`` to read your own writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from broker.topics import ORGS
from domains.policies import Action, Role
from queries import consistency
from queries.auth import Callers, Principal
from queries.bodies import path_uuid, read_body, read_query
from queries.conditional import expected_version, if_match_header
from queries.paging import PageQuery, SortKey
from queries.ports import EventHistoryPort, OrgCommandsPort, WriteResult
from queries.problems import not_found
from queries.routing import Endpoint, json
from queries.text import Line


class CreateOrg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Line = Field(min_length=1, max_length=200, description="The studio's name.")


class RenameOrg(CreateOrg):
    pass


class Invite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Line = Field(max_length=254, json_schema_extra={"format": "email"})
    role: Role


class ChangeRole(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


class OrgWritten(BaseModel):
    org_id: UUID
    version: int
    consistency_token: str


class InvitationWritten(OrgWritten):
    invitation_id: UUID


class Joined(OrgWritten):
    role: Role


class OrgView(BaseModel):
    org_id: UUID
    name: str
    version: int
    created_at: datetime
    updated_at: datetime


class Member(BaseModel):
    user_id: UUID
    email: str | None
    name: str | None
    role: Role
    joined_at: datetime


class InvitationView(BaseModel):
    invitation_id: UUID
    email: str
    role: Role
    status: str
    expires_at: datetime
    created_at: datetime


ORG_COLUMNS = "org_id, name, version, created_at, updated_at"


def written(result: WriteResult, **extra: Any) -> dict[str, Any]:
    token = consistency.Token(ORGS.name, result.aggregate_id, result.version)
    return {
        "org_id": result.aggregate_id,
        "version": result.version,
        "consistency_token": token.encode(),
        **extra,
    }


IF_MATCH = if_match_header("studio")


ORGS_IN_ORDER = SortKey(("created_at", "org_id"), (datetime, UUID))
MEMBERS_IN_ORDER = SortKey(("joined_at", "user_id"), (datetime, UUID))
INVITATIONS_IN_ORDER = SortKey(("created_at", "invitation_id"), (datetime, UUID))


def org_endpoints(
    commands: OrgCommandsPort,
    pool: asyncpg.Pool,
    max_body: int,
    wait_seconds: float,
    history: EventHistoryPort | None = None,
) -> list[Endpoint]:
    callers = Callers(history)

    async def reader(request: Request, action: Action) -> tuple[Principal, UUID]:
        """Wait for the caller's token, then check its role in the studio of the path."""
        org_id = path_uuid(request, "org_id")
        principal = await callers.principal(request)
        principal.require(org_id, action)
        return principal, org_id

    async def create_org(request: Request) -> Response:
        principal = await callers.principal(request, roles=False)
        body = await read_body(request, CreateOrg, max_body)
        result = await commands.create(body.name, actor_id=principal.user_id)
        return json(written(result), 201, {"Location": f"/api/orgs/{result.aggregate_id}"})

    async def rename_org(request: Request) -> Response:
        principal = await callers.principal(request, roles=False)
        org_id = path_uuid(request, "org_id")
        body = await read_body(request, RenameOrg, max_body)
        result = await commands.rename(
            org_id, body.name, principal.user_id, expected_version=expected_version(request)
        )
        return json(written(result))

    async def get_org(request: Request) -> Response:
        _, org_id = await reader(request, Action.VIEW)
        async with pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {ORG_COLUMNS} FROM read.orgs WHERE org_id = $1", org_id
            )
        if row is None:
            raise not_found(f"Organization {org_id} was not found")
        return json(dict(row), headers={"ETag": f'"{row["version"]}"'})

    async def list_orgs(request: Request) -> Response:
        query = read_query(request, PageQuery)
        principal = await callers.principal(request)
        after = ORGS_IN_ORDER.arguments(query.cursor)
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {ORG_COLUMNS} FROM read.orgs WHERE org_id = ANY($1::uuid[]) "
                "AND ($2::timestamptz IS NULL OR (created_at, org_id) > ($2, $3::uuid)) "
                "ORDER BY created_at, org_id LIMIT $4",
                list(principal.roles or ()),
                *after,
                query.limit + 1,
            )
        return json(ORGS_IN_ORDER.page([dict(r) for r in rows], query.limit))

    async def list_members(request: Request) -> Response:
        query = read_query(request, PageQuery)
        _, org_id = await reader(request, Action.VIEW)
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
        _, org_id = await reader(request, Action.INVITE)
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
            "POST",
            "/api/orgs",
            create_org,
            "Create a studio; the caller becomes its owner",
            "orgs",
            status=201,
            body=CreateOrg,
            response=OrgWritten,
            errors=(400, 401, 413, 422),
            response_headers={"Location": "The new studio's URL"},
        ),
        Endpoint(
            "GET",
            "/api/orgs",
            list_orgs,
            "The studios the caller belongs to",
            "orgs",
            response=OrgView,
            query=PageQuery,
            paged=True,
            errors=(401, 409, 422),
        ),
        Endpoint(
            "GET",
            "/api/orgs/{org_id}",
            get_org,
            "One studio",
            "orgs",
            response=OrgView,
            errors=read_errors,
            response_headers={"ETag": "The version, quoted: send it back as If-Match"},
        ),
        Endpoint(
            "PATCH",
            "/api/orgs/{org_id}",
            rename_org,
            "Rename a studio (If-Match: <version> makes it conditional)",
            "orgs",
            body=RenameOrg,
            response=OrgWritten,
            errors=write_errors,
            headers={"If-Match": IF_MATCH},
        ),
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
