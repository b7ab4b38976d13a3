"""A studio's provider settings: set or replace them, list what is set, remove them.

No route ever answers with a secret: the list shows the public settings and the names of the
secrets that are set, never their values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from broker.topics import PROVIDERS
from domains.policies import Action
from domains.provider import KINDS
from domains.text import refused_character
from queries import consistency
from queries.auth import Callers
from queries.bodies import path_uuid, read_body
from queries.conditional import expected_version, if_match_header
from queries.ports import EventHistoryPort, ProviderCommandsPort, WriteResult
from queries.problems import invalid, not_found
from queries.routing import Endpoint, json


class ProviderFields(BaseModel):
    """The provider's settings as strings; which ones depend on the kind (see the docs)."""

    model_config = ConfigDict(extra="allow")


class ProviderWritten(BaseModel):
    kind: str
    version: int
    consistency_token: str


class ProviderView(BaseModel):
    kind: str
    public: dict[str, str]
    secrets_set: list[str] = Field(description="Names of the secret settings; never values.")
    updated_at: datetime
    updated_by: str | None


KIND_PARAMETER = {"kind": {"type": "string", "enum": sorted(KINDS)}}


def _written(kind: str, result: WriteResult) -> dict[str, Any]:
    token = consistency.Token(PROVIDERS.name, result.aggregate_id, result.version)
    return {"kind": kind, "version": result.version, "consistency_token": token.encode()}


def _kind(request: Request) -> str:
    kind = str(request.path_params["kind"])
    if kind not in KINDS:
        raise not_found(f"No provider kind {kind!r}; kinds: {', '.join(sorted(KINDS))}")
    return kind


def provider_endpoints(
    commands: ProviderCommandsPort,
    pool: asyncpg.Pool,
    max_body: int,
    wait_seconds: float,
    history: EventHistoryPort | None = None,
) -> list[Endpoint]:
    callers = Callers(history)

    async def configure(request: Request) -> Response:
        org_id = path_uuid(request, "org_id")
        principal = await callers.principal(request, studio=org_id)
        principal.require(org_id, Action.MANAGE_PROVIDERS)
        kind = _kind(request)
        body = await read_body(request, ProviderFields, max_body)
        fields = body.model_extra or {}
        wrong = [k for k, v in fields.items() if not isinstance(v, str | int | bool)]
        if wrong:
            raise invalid([{"field": k, "message": "must be a string"} for k in wrong])
        as_text = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in fields.items()}
        unreadable = [k for k, v in as_text.items() if refused_character(k + v) is not None]
        if unreadable:
            raise invalid(
                [{"field": k, "message": "must not contain control characters"} for k in unreadable]
            )
        result = await commands.configure(
            org_id, kind, as_text, principal.user_id, expected_version(request)
        )
        return json(_written(kind, result))

    async def remove(request: Request) -> Response:
        org_id = path_uuid(request, "org_id")
        principal = await callers.principal(request, studio=org_id)
        principal.require(org_id, Action.MANAGE_PROVIDERS)
        kind = _kind(request)
        result = await commands.remove(org_id, kind, principal.user_id, expected_version(request))
        return json(_written(kind, result))

    async def list_providers(request: Request) -> Response:
        org_id = path_uuid(request, "org_id")
        principal = await callers.principal(request, studio=org_id)
        principal.require(org_id, Action.MANAGE_PROVIDERS)
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT kind, public, secrets_set, updated_at, updated_by FROM read.providers "
                "WHERE org_id = $1 ORDER BY kind",
                org_id,
            )
        items = [
            {
                "kind": r["kind"],
                "public": orjson.loads(r["public"]),
                "secrets_set": r["secrets_set"],
                "updated_at": r["updated_at"],
                "updated_by": r["updated_by"],
            }
            for r in rows
        ]
        return json({"items": items, "next_cursor": None})

    errors = (400, 401, 403, 404, 409, 413, 422)
    return [
        Endpoint(
            "PUT",
            "/api/orgs/{org_id}/providers/{kind}",
            configure,
            "Set a provider's credentials (google_drive, s3, smtp, sms); admins",
            "providers",
            body=ProviderFields,
            response=ProviderWritten,
            errors=errors,
            path_params=KIND_PARAMETER,
            headers={"If-Match": if_match_header("provider setting")},
        ),
        Endpoint(
            "DELETE",
            "/api/orgs/{org_id}/providers/{kind}",
            remove,
            "Remove a provider's credentials",
            "providers",
            response=ProviderWritten,
            errors=errors,
            path_params=KIND_PARAMETER,
            headers={"If-Match": if_match_header("provider setting")},
        ),
        Endpoint(
            "GET",
            "/api/orgs/{org_id}/providers",
            list_providers,
            "The providers set up, without secrets",
            "providers",
            response=ProviderView,
            paged=True,
            errors=(401, 403, 404, 409),
        ),
    ]
