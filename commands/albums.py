"""The Photoflow context's application: albums, from the photographer's and the client's side.

Client commands carry only the share token; each checks it against the album in the same
decision that changes it, so a token that expired or an album archived a moment ago refuses.

An album names a folder of the Storage context. That reference is checked on the write side,
through ``FolderOwners`` (Storage's own event store, never a read table), whenever it matters:
an album is created only on a folder of its own studio, and a sync is asked for, or its files
copied into the album, only while the album's folder is its studio's. Otherwise the answer is
404 naming the folder that was asked for, as if another studio's folder did not exist.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application

from commands.group_commit import Batch, GroupCommitter, Written
from domains.album import Album
from domains.errors import DomainError, NotFound


class FolderOwners(Protocol):
    """The Storage context, asked which studio a folder belongs to (its write model)."""

    async def owner_of(self, folder_id: UUID) -> UUID | None:
        """The folder's studio, or None when there is no such folder."""
        ...


class _OwnerNeeded(DomainError):
    """Raised inside a decision (before any change) to look a folder's owner up, then retry."""

    def __init__(self, folder_id: UUID) -> None:
        super().__init__(f"the owner of folder {folder_id} is needed")
        self.folder_id = folder_id


class AlbumsApplication(Application[UUID]):
    """Events of the Photoflow context, stored in table ``albums_events``."""

    name = "Albums"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def share_token(key: bytes, album_id: UUID, nonce: str) -> str:
    """The client's link token: ``<album>.<secret>``, the secret an HMAC of album and nonce.

    Only its hash is recorded; the Sender rebuilds it from the Shared event's nonce and the
    installation's link key to put it in the delivery email.
    """
    mac = hmac.new(key, f"share:{album_id}:{nonce}".encode(), hashlib.sha256).digest()
    return f"{album_id}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def parse_share_token(token: str) -> tuple[UUID, str]:
    album, _, secret = token.partition(".")
    try:
        return UUID(album), _digest(secret)
    except ValueError:
        raise NotFound("Album", "share link") from None


class AlbumCommands:
    def __init__(
        self,
        app: Application[UUID],
        committer: GroupCommitter,
        link_key: bytes,
        folders: FolderOwners,
    ) -> None:
        self._app = app
        self._committer = committer
        self._link_key = link_key
        self._folders = folders

    async def create(
        self,
        org_id: UUID,
        title: str,
        client_name: str,
        client_email: str,
        folder_id: UUID | None,
        tags: list[str],
        selection_limit: int | None,
        actor_id: UUID,
    ) -> Written:
        if folder_id is not None:
            await self.check_folder(org_id, folder_id)
        return await self._committer.execute(
            lambda batch: batch.add(
                Album.create(
                    org_id,
                    title,
                    client_name,
                    client_email,
                    folder_id,
                    tags,
                    selection_limit,
                    actor_id,
                )
            )
        )

    async def check_folder(self, org_id: UUID, folder_id: UUID) -> None:
        """NotFound naming ``folder_id`` unless that folder exists and is the studio's."""
        if await self._folders.owner_of(folder_id) != org_id:
            raise NotFound("Folder", folder_id)

    async def request_sync(self, album_id: UUID, actor: str) -> Written:
        """Ask Storage for a full sync of the album's folder, if the folder is its studio's.

        An album recorded on another studio's folder (before references were checked) gets a
        404 naming its folder, and no FullSyncStorage is recorded.
        """
        return await self.on_own_folder(album_id, lambda album: album.request_sync(actor))

    async def on_own_folder(self, album_id: UUID, act: Callable[[Album], object]) -> Written:
        """Run ``act`` on the album only while its folder (if any) belongs to its studio."""
        owners: dict[UUID, UUID | None] = {}

        def decide(batch: Batch) -> Album:
            album = batch.get(Album, album_id)
            folder_id = album.folder_id
            if folder_id is not None:
                if folder_id not in owners:
                    raise _OwnerNeeded(folder_id)
                if owners[folder_id] != album.org_id:
                    raise NotFound("Folder", folder_id)
            act(album)
            return album

        for _ in range(3):  # a folder id never changes owner; the album might change folder
            try:
                return await self._committer.execute(decide)
            except _OwnerNeeded as needed:
                owners[needed.folder_id] = await self._folders.owner_of(needed.folder_id)
        raise RuntimeError(f"album {album_id} kept changing its folder")

    async def change(self, album_id: UUID, act: Callable[[Album], object]) -> Written:
        """Run one photographer command on the album (the route checked the caller's role)."""

        def decide(batch: Batch) -> Album:
            album = batch.get(Album, album_id)
            act(album)
            return album

        return await self._committer.execute(decide)

    async def share(
        self, album_id: UUID, expires_at: datetime | None, allow_download: bool, actor: str
    ) -> tuple[Written, str]:
        nonce = uuid4().hex
        token = share_token(self._link_key, album_id, nonce)
        token_hash = _digest(token.partition(".")[2])
        written = await self.change(
            album_id, lambda a: a.share(nonce, token_hash, expires_at, allow_download, actor)
        )
        return written, token

    async def as_client(self, token: str, act: Callable[[Album], object]) -> Written:
        """Run one client command, authorised by the share token alone."""
        album_id, token_hash = parse_share_token(token)
        now = datetime.now(UTC)

        def decide(batch: Batch) -> Album:
            try:
                album = batch.get(Album, album_id)
            except NotFound:
                raise NotFound("Album", "share link") from None
            album.check_share(token_hash, now)
            act(album)
            return album

        return await self._committer.execute(decide)

    async def open_share(self, token: str) -> UUID:
        """The album a share token opens now, or NotFound (expired, archived, wrong token)."""
        album_id, token_hash = parse_share_token(token)
        album: Album = await asyncio.to_thread(self._load, album_id)
        album.check_share(token_hash, datetime.now(UTC))
        return album_id

    def _load(self, album_id: UUID) -> Album:
        try:
            album: Album = self._app.repository.get(album_id)
        except AggregateNotFoundError:
            raise NotFound("Album", "share link") from None
        if not isinstance(album, Album):
            raise NotFound("Album", "share link")
        return album

    async def update_photos(self, album_id: UUID, files: list[tuple[str, str]]) -> Written:
        """Bring the album's photos up to date after its folder's sync, if that folder is its own.

        ``files`` come from the folder the read side joined to the album; the check keeps
        another studio's file names out of an album recorded before references were checked.
        """
        return await self.on_own_folder(album_id, lambda a: a.update_photos(files))


def new_comment_id() -> UUID:
    return uuid4()
