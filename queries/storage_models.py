"""Bodies and answers of the storage routes (``queries.storage``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from queries.text import Line

LocationCheck = Callable[[str, str], Awaitable[None]]


class RegisterFolder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: Literal["local", "google_drive", "s3"]
    location: Line = Field(min_length=1, max_length=2048)
    name: Line = Field(min_length=1, max_length=200)


class StartSync(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["full", "incremental"] = "full"


class FolderWritten(BaseModel):
    folder_id: UUID
    version: int
    consistency_token: str


class SyncAccepted(BaseModel):
    sync_id: UUID
    joined: bool
    consistency_token: str | None


class SyncView(BaseModel):
    sync_id: UUID
    mode: str
    state: Literal["running", "completed", "failed"]
    processed: int | None
    total: int | None
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    requested_mode: str | None = Field(
        default=None,
        description="The mode asked for; an incremental sync with nothing to compare against "
        "yet runs as full (mode) and says so here.",
    )


class RenditionCount(BaseModel):
    ready: int = Field(description="Files whose thumbnail and preview are ready")
    total: int = Field(description="Files of the folder")
    failed: int = Field(description="Files that could not be rendered (not images we read)")


class FolderView(BaseModel):
    folder_id: UUID
    org_id: UUID
    provider: str
    location: str
    name: str
    file_count: int
    sync: SyncView | None
    renditions: RenditionCount | None = Field(
        default=None, description="On a single folder's answer: how many renditions are ready"
    )


class PhotoView(BaseModel):
    file_id: str
    name: str
    path: str
    mime_type: str
    size: int
    width: int | None
    height: int | None
    taken_at: datetime | None
    checksum: str
    modified_at: datetime


class AuditEntry(BaseModel):
    event_id: UUID
    action: str
    actor: str | None
    occurred_at: datetime
    details: dict[str, Any]
