"""Studio routes: create, rename, read and list studios (members are in ``queries.members``).

Commands go to the Organization aggregate, whose own member list decides who may run them (a
non-member gets a 404, a member without the right role a 403). Reads come from the read tables
and check the caller's role there; send ``X-Consistency-Token`` to read your own writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson
from starlette.requests import Request
from starlette.responses import Response

from domains.policies import Action
from queries.auth import Callers
from queries.bodies import path_uuid, read_body, read_query
from queries.conditional import expected_version
from queries.org_models import IF_MATCH, CreateOrg, OrgView, OrgWritten, RenameOrg, written
from queries.paging import PageQuery, SortKey
from queries.ports import EventHistoryPort, OrgCommandsPort
from queries.problems import not_found
from queries.routing import Endpoint, json

ORG_COLUMNS = "org_id, name, version, created_at, updated_at, watermark::text"


def org_view(row: asyncpg.Record) -> dict[str, Any]:
    view = dict(row)
    view["watermark"] = orjson.loads(row["watermark"]) if row["watermark"] else None
    return view


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
        _, org_id = await callers.in_studio(request, Action.VIEW)
        async with pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {ORG_COLUMNS} FROM read.orgs WHERE org_id = $1", org_id
            )
        if row is None:
            raise not_found(f"Organization {org_id} was not found")
        return json(org_view(row), headers={"ETag": f'"{row["version"]}"'})

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
        return json(ORGS_IN_ORDER.page([org_view(r) for r in rows], query.limit))

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
    ]
