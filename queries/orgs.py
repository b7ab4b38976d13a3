"""Studio routes: commands through the Organization port, reads from ``read.orgs``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from broker.topics import ORGS
from queries import consistency
from queries.auth import Principal, principal_of
from queries.bodies import path_uuid, read_body, read_query
from queries.paging import PageQuery, decode_cursor, page
from queries.ports import OrgCommandsPort, WriteResult
from queries.problems import Problem, not_found
from queries.routing import Endpoint, json


class CreateOrg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, description="The studio's name.")


class RenameOrg(CreateOrg):
    pass


class OrgWritten(BaseModel):
    org_id: UUID
    version: int
    consistency_token: str


class OrgView(BaseModel):
    org_id: UUID
    name: str
    version: int
    created_at: datetime
    updated_at: datetime


COLUMNS = "org_id, name, version, created_at, updated_at"


def written(result: WriteResult) -> dict[str, Any]:
    token = consistency.Token(ORGS.name, result.aggregate_id, result.version)
    return {
        "org_id": result.aggregate_id,
        "version": result.version,
        "consistency_token": token.encode(),
    }


def expected_version(request: Request) -> int | None:
    """``If-Match: <version>`` makes a write conditional on the version the client last saw."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    value = header.strip().strip('"').removeprefix("W/").strip('"')
    if not value.isdigit():
        raise Problem(400, "bad-if-match", "Bad If-Match", "If-Match must be a version number")
    return int(value)


def org_endpoints(
    commands: OrgCommandsPort, pool: asyncpg.Pool, max_body: int, wait_seconds: float
) -> list[Endpoint]:
    async def visible_org(principal: Principal, org_id: UUID) -> None:
        if not principal.may_see(org_id):
            raise not_found(f"Organization {org_id} was not found")

    async def create_org(request: Request) -> Response:
        principal = await principal_of(request)
        body = await read_body(request, CreateOrg, max_body)
        result = await commands.create(body.name, actor=principal.actor)
        return json(written(result), 201, {"Location": f"/api/orgs/{result.aggregate_id}"})

    async def rename_org(request: Request) -> Response:
        principal = await principal_of(request)
        org_id = path_uuid(request, "org_id")
        await visible_org(principal, org_id)
        body = await read_body(request, RenameOrg, max_body)
        result = await commands.rename(
            org_id, body.name, actor=principal.actor, expected_version=expected_version(request)
        )
        return json(written(result))

    async def get_org(request: Request) -> Response:
        principal = await principal_of(request)
        org_id = path_uuid(request, "org_id")
        await visible_org(principal, org_id)
        await consistency.honour(request, pool, wait_seconds)
        async with pool.acquire() as conn:
            row = await conn.fetchrow(f"SELECT {COLUMNS} FROM read.orgs WHERE org_id = $1", org_id)
        if row is None:
            raise not_found(f"Organization {org_id} was not found")
        return json(dict(row), headers={"ETag": f'"{row["version"]}"'})

    async def list_orgs(request: Request) -> Response:
        principal = await principal_of(request)
        query = read_query(request, PageQuery)
        await consistency.honour(request, pool, wait_seconds)
        after = decode_cursor(query.cursor)
        visible = None if principal.org_ids is None else list(principal.org_ids)
        try:
            after_key = (datetime.fromisoformat(after[0]), UUID(after[1])) if after else None
        except (ValueError, IndexError, TypeError):
            raise Problem(
                422,
                "validation",
                "Invalid input",
                "Bad cursor",
                [{"field": "query.cursor", "message": "not a cursor from this API"}],
            ) from None
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {COLUMNS} FROM read.orgs "
                "WHERE ($1::uuid[] IS NULL OR org_id = ANY($1)) "
                "AND ($2::timestamptz IS NULL OR (created_at, org_id) > ($2, $3)) "
                "ORDER BY created_at, org_id LIMIT $4",
                visible,
                after_key[0] if after_key else None,
                after_key[1] if after_key else None,
                query.limit + 1,
            )
        return json(page([dict(r) for r in rows], query.limit, ["created_at", "org_id"]))

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
            errors=(400, 413, 422),
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
            errors=(409, 422),
        ),
        Endpoint(
            "GET",
            "/api/orgs/{org_id}",
            get_org,
            "One studio",
            "orgs",
            response=OrgView,
            errors=(400, 404, 409),
        ),
        Endpoint(
            "PATCH",
            "/api/orgs/{org_id}",
            rename_org,
            "Rename a studio (If-Match: <version> makes it conditional)",
            "orgs",
            body=RenameOrg,
            response=OrgWritten,
            errors=(400, 404, 409, 413, 422),
        ),
    ]
