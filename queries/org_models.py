"""Bodies and answers of the studio routes (``queries.orgs`` and ``queries.members``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from broker.topics import ORGS
from domains.policies import Role
from queries import consistency
from queries.conditional import if_match_header
from queries.ports import WriteResult
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


class OrgWatermark(BaseModel):
    text: str | None
    image_id: str | None = Field(
        description="GET /api/orgs/{org_id}/watermark/images/{image_id} shows it."
    )
    position: str
    opacity: float
    scale: float


class OrgView(BaseModel):
    org_id: UUID
    name: str
    version: int
    created_at: datetime
    updated_at: datetime
    watermark: OrgWatermark | None = Field(
        description="What client previews of links shared with watermark on carry."
    )


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


def written(result: WriteResult, **extra: Any) -> dict[str, Any]:
    token = consistency.Token(ORGS.name, result.aggregate_id, result.version)
    return {
        "org_id": result.aggregate_id,
        "version": result.version,
        "consistency_token": token.encode(),
        **extra,
    }


IF_MATCH = if_match_header("studio")
