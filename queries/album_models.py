"""The album wing's bodies and answers, as the OpenAPI document shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domains.album_workflow import STATES
from queries.paging import PageQuery
from queries.photo_images import PhotoImages
from queries.text import Line, Lines


class Client(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Line = Field(min_length=1, max_length=200)
    email: Line = Field(max_length=254, json_schema_extra={"format": "email"})


class CreateAlbum(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Line = Field(min_length=1, max_length=200)
    folder_id: UUID | None = None
    client: Client
    tags: list[Line] = Field(default_factory=list, max_length=50)
    selection_limit: int | None = Field(default=None, ge=1, le=100_000)


class Tag(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tag: Line = Field(min_length=1, max_length=50)


class Share(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the link stops opening the album; in the past: 422."
    )
    allow_download: bool = False
    watermark: bool = Field(
        default=False,
        description="The client's previews carry the studio's watermark "
        "(PUT /api/orgs/{org_id}/watermark); members always see clean ones.",
    )


class ProcStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["pending", "editing", "edited", "rejected"]


class Rating(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: int = Field(ge=0, le=5)
    color: Literal["red", "yellow", "green", "blue", "purple"] | None = None


class Comment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Lines = Field(min_length=1, max_length=4000)


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Lines = Field(min_length=1, max_length=4000)


class AlbumWritten(BaseModel):
    album_id: UUID
    version: int = Field(description="The album's new version: send it back as If-Match.")
    consistency_token: str


class ShareWritten(AlbumWritten):
    share_token: str = Field(description="The client's credential: /api/share/{share_token}.")


class ShareLink(BaseModel):
    """The album's current share link, without its token (only the share answer has that)."""

    active: bool = Field(description="Whether a link opens the album now (not revoked).")
    expires_at: datetime | None
    allow_download: bool
    watermark: bool = Field(description="Whether the client's previews carry the watermark.")
    token: str | None = Field(
        default=None,
        description="The link's share token (the client's page is /g/{token}): in GET "
        "/api/albums/{album_id}, for members who may share; absent elsewhere.",
    )


class AlbumView(BaseModel):
    album_id: UUID
    org_id: UUID
    title: str
    status: str
    tags: list[str]
    client: dict[str, str] = Field(
        description="The client's name and email; both '[forgotten]' once the client was "
        "forgotten (POST /api/albums/{album_id}/forget-client)."
    )
    client_forgotten: bool = Field(
        default=False,
        description="The client was forgotten: every name and text of the client and its "
        "guests reads '[forgotten]', each guest '[forgotten guest <8 hex>]'.",
    )
    folder_id: UUID | None
    photo_count: int
    selection_count: int
    selection_limit: int | None
    comment_count: int
    share: ShareLink
    allowed_commands: list[str] = Field(
        description="The commands the album's status accepts now (sync, share, submit, "
        "start_editing, deliver, archive, reopen, revoke_share while a link is active, "
        "forget_client until the client is forgotten, ...): show only these. Roles are not "
        "applied here: a viewer sees what the album accepts, and is refused (403) if it tries."
    )
    version: int
    created_at: datetime
    updated_at: datetime


class GuestRating(BaseModel):
    rating: int
    color: str | None


class AlbumPhoto(BaseModel):
    photo_id: UUID
    file_id: str
    name: str
    selected: bool = Field(description="Picked by at least one guest.")
    picked_by: list[str] = Field(description="The guests (X-Guest names) who picked it.")
    rating: int | None = Field(
        description="For members: the highest rating any guest gave; on a share link: the "
        "calling guest's (X-Guest) own rating."
    )
    color: str | None = Field(
        description="For members: the colour of the latest rating; on a share link: the "
        "calling guest's own colour."
    )
    ratings: dict[str, GuestRating] = Field(
        description="Every guest's rating and colour, by guest name."
    )
    comment_count: int
    proc_status: str
    images: PhotoImages


class CommentView(BaseModel):
    comment_id: UUID
    photo_id: UUID
    photo_name: str | None = Field(description="The photo's file name (null once removed).")
    author: str = Field(description="A member's user id, or client:<guest> for a client.")
    text: str
    created_at: datetime


class ActivityEntry(BaseModel):
    event_id: UUID
    activity: str
    actor: str | None
    occurred_at: datetime
    details: dict[str, Any]


class SharedAlbum(BaseModel):
    """What a client sees of the album: no studio, folder or tags."""

    album_id: UUID
    title: str
    status: str
    client: dict[str, str]
    photo_count: int
    selection_count: int
    selection_limit: int | None
    comment_count: int
    share: ShareLink
    allowed_commands: list[str] = Field(
        description="What the client may do now: select, rate, comment, submit, "
        "request_changes, approve."
    )
    version: int
    created_at: datetime
    updated_at: datetime


class SharedPhotos(BaseModel):
    items: list[AlbumPhoto]
    next_cursor: str | None


class ShareView(BaseModel):
    album: SharedAlbum
    photos: SharedPhotos = Field(description="The first page; ?limit=&cursor= page on.")


AlbumStatus = Literal[STATES]  # type: ignore[valid-type]


class PhotoQuery(PageQuery):
    show: Literal["all", "picked", "rated", "commented"] = Field(
        default="all", description="Only the photos picked, rated or commented by any guest."
    )


class AlbumQuery(PageQuery):
    status: AlbumStatus | None = None
    tag: Line | None = Field(default=None, max_length=50)
    q: Line | None = Field(default=None, max_length=200)


class ExportQuery(BaseModel):
    format: Literal["lightroom", "csv"] = "lightroom"
