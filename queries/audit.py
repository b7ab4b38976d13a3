"""Audit routes: an aggregate's recorded events, and its state as it was, from the event store."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from starlette.requests import Request
from starlette.responses import Response

from broker.topics import STREAMS
from domains.errors import NotFound
from domains.policies import Action, allows
from queries.auth import Callers
from queries.bodies import path_uuid, read_query
from queries.paging import PageQuery, SortKey
from queries.ports import EventHistoryPort
from queries.problems import Problem, not_found
from queries.routing import Endpoint, json

BY_VERSION = SortKey(("version",), (int,))


class AuditEvent(BaseModel):
    id: UUID
    type: str
    version: int
    occurred_at: datetime
    actor: str | None = Field(
        description="A member's user id, or client:<guest> (client:[forgotten guest <8 hex>] "
        "once the album's client was forgotten)."
    )
    data: dict[str, Any] = Field(
        description="The event's fields; an album's personal data opened with its client's "
        "key, or '[forgotten]' once the client was forgotten (the stored bytes stay sealed)."
    )
    hash: str | None = Field(
        default=None, description="SHA-256 (hex) of the stored event chained to prev_hash."
    )
    prev_hash: str | None = Field(default=None, description="The previous event's hash.")


class ChainVerdict(BaseModel):
    ok: bool = Field(description="Whether every stored event still hashes to its chain link.")
    length: int = Field(description="The versions the chain and the store know of.")
    head: str | None = Field(description="The last link (hex) when the chain holds.")
    broken_at: int | None = Field(description="The first version that no longer matches.")


class AggregateState(BaseModel):
    id: UUID
    version: int
    created_on: datetime
    modified_on: datetime
    state: dict[str, Any]


class StateQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int | None = Field(
        default=None, ge=1, lt=2**63, description="The state after this version."
    )
    at: AwareDatetime | None = Field(default=None, description="The state at this RFC 3339 time.")

    @model_validator(mode="after")
    def one_of(self) -> StateQuery:
        if self.version is not None and self.at is not None:
            raise ValueError("give either version or at, not both")
        return self


STREAM_PARAMETER = {"stream": {"type": "string", "enum": list(STREAMS)}}


def audit_endpoints(history: EventHistoryPort) -> list[Endpoint]:
    callers = Callers(history)

    async def visible_aggregate(request: Request) -> tuple[str, UUID]:
        stream = request.path_params["stream"]
        aggregate_id = path_uuid(request, "aggregate_id")
        if stream not in STREAMS:
            raise not_found(f"No audit stream {stream!r}; streams: {', '.join(STREAMS)}")
        principal = await callers.principal(request)
        # Whether it does not exist or lives in another studio, the answer names only what was
        # asked for: never the studio that owns it.
        missing = not_found(f"No {stream} aggregate {aggregate_id}")
        try:
            org_id = await history.org_of(stream, aggregate_id)
        except NotFound:
            raise missing from None
        if org_id is None:  # a user's own history is theirs alone
            if aggregate_id != principal.user_id:
                raise missing
        else:
            role = await history.role_in(org_id, principal.user_id)
            if role is None:
                raise missing
            if not allows(role, Action.AUDIT):
                raise Problem(
                    403, "forbidden", "Not allowed", f"a studio {role.value} may not audit"
                )
        return stream, aggregate_id

    async def audit_events(request: Request) -> Response:
        stream, aggregate_id = await visible_aggregate(request)
        query = read_query(request, PageQuery)
        (after_version,) = BY_VERSION.arguments(query.cursor)
        items = await history.events(stream, aggregate_id, after_version or 0, query.limit + 1)
        return json(BY_VERSION.page(items, query.limit))

    async def audit_verify(request: Request) -> Response:
        stream, aggregate_id = await visible_aggregate(request)
        return json(await history.verify(stream, aggregate_id))

    async def audit_state(request: Request) -> Response:
        stream, aggregate_id = await visible_aggregate(request)
        query = read_query(request, StateQuery)
        return json(await history.state(stream, aggregate_id, query.version, query.at))

    return [
        Endpoint(
            "GET",
            "/api/audit/{stream}/{aggregate_id}/events",
            audit_events,
            "An aggregate's events in order (stream: albums, folders, users, orgs)",
            "audit",
            response=AuditEvent,
            query=PageQuery,
            paged=True,
            errors=(403, 404, 422),
            path_params=STREAM_PARAMETER,
        ),
        Endpoint(
            "GET",
            "/api/audit/{stream}/{aggregate_id}/state",
            audit_state,
            "An aggregate as it was at ?version=N or ?at=<RFC 3339 time>",
            "audit",
            response=AggregateState,
            query=StateQuery,
            errors=(403, 404, 422),
            path_params=STREAM_PARAMETER,
        ),
        Endpoint(
            "GET",
            "/api/audit/{stream}/{aggregate_id}/verify",
            audit_verify,
            "Whether the aggregate's stored events still match their hash chain",
            "audit",
            response=ChainVerdict,
            errors=(403, 404),
            path_params=STREAM_PARAMETER,
        ),
    ]
