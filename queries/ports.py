"""What the HTTP layer needs from the write side, as protocols the composition root fills.

Routes depend on these shapes only, so the read side never imports an application service and
a unit test can hand the routes a small fake.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domains.album import NewAlbum
from domains.album_actors import Guest, Member
from domains.personal_data import ClientKey
from domains.policies import Role


class WriteResult(Protocol):
    @property
    def aggregate_id(self) -> UUID: ...

    @property
    def version(self) -> int: ...


class InvitationResult(Protocol):
    @property
    def written(self) -> WriteResult: ...

    @property
    def invitation_id(self) -> UUID: ...


class JoinResult(Protocol):
    @property
    def written(self) -> WriteResult: ...

    @property
    def role(self) -> str: ...


class OrgCommandsPort(Protocol):
    async def create(self, name: str, actor_id: UUID) -> WriteResult: ...

    async def rename(
        self, org_id: UUID, name: str, actor_id: UUID, expected_version: int | None = None
    ) -> WriteResult: ...

    async def invite(
        self,
        org_id: UUID,
        email: str,
        role: str,
        actor_id: UUID,
        expected_version: int | None = None,
    ) -> InvitationResult: ...

    async def accept(
        self, token: str, user_id: UUID, email: str, expected_version: int | None = None
    ) -> JoinResult: ...

    async def revoke_invitation(
        self,
        org_id: UUID,
        invitation_id: UUID,
        actor_id: UUID,
        expected_version: int | None = None,
    ) -> WriteResult: ...

    async def change_role(
        self,
        org_id: UUID,
        user_id: UUID,
        role: str,
        actor_id: UUID,
        expected_version: int | None = None,
    ) -> WriteResult: ...

    async def remove_member(
        self, org_id: UUID, user_id: UUID, actor_id: UUID, expected_version: int | None = None
    ) -> WriteResult: ...


class SessionResult(Protocol):
    @property
    def user_id(self) -> UUID: ...

    @property
    def email(self) -> str: ...

    @property
    def session_id(self) -> UUID: ...

    @property
    def refresh_token(self) -> str: ...


class IdentityPort(Protocol):
    async def register(self, email: str, password: str, name: str) -> WriteResult: ...

    async def login(self, email: str, password: str) -> SessionResult: ...

    async def google_sign_in(self, id_token: str) -> SessionResult: ...

    async def refresh(self, refresh_token: str) -> SessionResult: ...

    async def logout(self, refresh_token: str) -> None: ...

    async def deactivate(self, user_id: UUID, actor_id: UUID) -> WriteResult: ...


class TokenIssuer(Protocol):
    ttl_seconds: int

    def issue(self, user_id: UUID, session_id: UUID, email: str) -> str: ...

    def jwks(self) -> dict[str, Any]: ...


class ProviderCommandsPort(Protocol):
    async def configure(
        self,
        org_id: UUID,
        kind: str,
        fields: dict[str, str],
        actor_id: UUID,
        expected_version: int | None = None,
    ) -> WriteResult: ...

    async def remove(
        self, org_id: UUID, kind: str, actor_id: UUID, expected_version: int | None = None
    ) -> WriteResult: ...


class SyncRequestResult(Protocol):
    @property
    def written(self) -> WriteResult | None: ...

    @property
    def sync_id(self) -> UUID: ...

    @property
    def joined(self) -> bool: ...


class StorageCommandsPort(Protocol):
    async def register(
        self, org_id: UUID, provider: str, location: str, name: str, actor_id: UUID
    ) -> WriteResult: ...

    async def start_sync(
        self, folder_id: UUID, mode: str, actor: str, *, expected_version: int | None = None
    ) -> SyncRequestResult: ...


class ShareResult(Protocol):
    @property
    def written(self) -> WriteResult: ...

    @property
    def share_token(self) -> str: ...


class OpenedShareResult(Protocol):
    @property
    def album_id(self) -> UUID: ...

    @property
    def org_id(self) -> UUID: ...

    @property
    def expires_at(self) -> datetime | None: ...

    @property
    def allow_download(self) -> bool: ...

    @property
    def watermark(self) -> bool: ...


class AlbumCommandsPort(Protocol):
    """Album use cases, one method each. A ``Member``'s role is checked by the use case on the
    write side; a ``Guest`` carries its share link. ``expected_version`` is the If-Match."""

    async def create(self, org_id: UUID, new: NewAlbum, member: Member) -> WriteResult: ...

    async def request_sync(
        self, album_id: UUID, member: Member, expected_version: int | None = None
    ) -> WriteResult: ...

    async def share(
        self,
        album_id: UUID,
        expires_at: datetime | None,
        allow_download: bool,
        member: Member,
        expected_version: int | None = None,
        watermark: bool = False,
    ) -> ShareResult: ...

    def share_token_of(self, album_id: UUID, nonce: str) -> str: ...

    async def revoke_share(
        self, album_id: UUID, member: Member, expected_version: int | None = None
    ) -> WriteResult: ...

    async def start_editing(
        self, album_id: UUID, member: Member, expected_version: int | None = None
    ) -> WriteResult: ...

    async def set_editing_status(
        self,
        album_id: UUID,
        photo_id: UUID,
        status: str,
        member: Member,
        expected_version: int | None = None,
    ) -> WriteResult: ...

    async def deliver(
        self, album_id: UUID, member: Member, expected_version: int | None = None
    ) -> WriteResult: ...

    async def tag(
        self, album_id: UUID, tag: str, member: Member, expected_version: int | None = None
    ) -> WriteResult: ...

    async def untag(
        self, album_id: UUID, tag: str, member: Member, expected_version: int | None = None
    ) -> WriteResult: ...

    async def archive(
        self, album_id: UUID, member: Member, expected_version: int | None = None
    ) -> WriteResult: ...

    async def reopen(
        self, album_id: UUID, member: Member, expected_version: int | None = None
    ) -> WriteResult: ...

    async def forget_client(
        self, album_id: UUID, member: Member, expected_version: int | None = None
    ) -> WriteResult: ...

    async def client_key(self, album_id: UUID) -> ClientKey | None:
        """The album client's key, to open its sealed data with; None once forgotten."""

    async def select(
        self, guest: Guest, photo_id: UUID, expected_version: int | None = None
    ) -> WriteResult: ...

    async def deselect(
        self, guest: Guest, photo_id: UUID, expected_version: int | None = None
    ) -> WriteResult: ...

    async def rate(
        self,
        guest: Guest,
        photo_id: UUID,
        rating: int,
        color: str | None,
        expected_version: int | None = None,
    ) -> WriteResult: ...

    async def comment(
        self, guest: Guest, photo_id: UUID, text: str, expected_version: int | None = None
    ) -> WriteResult: ...

    async def submit(self, guest: Guest, expected_version: int | None = None) -> WriteResult: ...

    async def request_changes(
        self, guest: Guest, note: str, expected_version: int | None = None
    ) -> WriteResult: ...

    async def approve(self, guest: Guest, expected_version: int | None = None) -> WriteResult: ...

    async def open_share(self, token: str) -> OpenedShareResult:
        """What the link opens now; NotFound, or ShareGone (expired, archived)."""
        ...


class EventHistoryPort(Protocol):
    """The event store, read for auditors: what happened, and what an aggregate was."""

    async def org_of(self, stream: str, aggregate_id: UUID) -> UUID | None:
        """The aggregate's studio; raises NotFound when there is no such aggregate."""

    async def role_in(self, org_id: UUID, user_id: UUID) -> Role | None:
        """The user's role in the studio, as the write model has it right now."""

    async def events(
        self, stream: str, aggregate_id: UUID, after_version: int, limit: int
    ) -> list[dict[str, Any]]: ...

    async def verify(self, stream: str, aggregate_id: UUID) -> dict[str, Any]:
        """``{ok, length, head, broken_at}`` of the aggregate's hash chain."""

    async def state(
        self, stream: str, aggregate_id: UUID, version: int | None, at: datetime | None
    ) -> dict[str, Any]: ...
