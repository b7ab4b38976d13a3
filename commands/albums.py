"""The Photoflow context's application: albums, one method per use case.

Member commands take a ``Member`` and check its role in the album's studio against the
Organization aggregate (``StudioRoles``), so a command straight after a studio's or an album's
create succeeds without waiting for any read table; a non-member learns nothing (404), a
member whose role does not allow it gets a 403. Guest commands take a ``Guest`` and check its
share link against the album in the same decision that changes it, so a link that expired or
an album archived a moment ago refuses. Every command takes ``expected_version`` (If-Match):
a stale one is a ``ConcurrencyConflict``, checked only once the actor may know the album.

An album names a folder of the Storage context. That reference is checked on the write side,
through ``FolderOwners`` (Storage's own event store, never a read table), whenever it matters:
an album is created only on a folder of its own studio, and a sync is asked for, or its files
copied into the album, only while the album's folder is its studio's. Otherwise the answer is
404 naming the folder that was asked for, as if another studio's folder did not exist.

The client's and guests' personal data is recorded sealed with the album client's key
(``ClientKeys``, ``domains.personal_data``): the key is made with the album, fetched before a
guest's command decides, and destroyed by ``forget_client`` (owners and admins), after which the
album records nothing of a client any more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import Mapper

from commands.album_access import (
    FolderOwners,
    parse_share_token,
    secret_digest,
    share_token,
)
from commands.album_upcasting import AlbumMapper
from commands.client_keys import ClientKeys, new_client_key
from commands.group_commit import Batch, Decision, GroupCommitter, Written
from commands.share_links import NoShareLinkCache, ShareLinkCache
from commands.studio_roles import StudioRoles
from domains.album import Album, NewAlbum
from domains.album_actors import Guest, Member
from domains.errors import DomainError, NotFound
from domains.personal_data import ClientKey
from domains.policies import Action, require
from domains.share_link import ShareLinkFacts

__all__ = [
    "AlbumCommands",
    "AlbumsApplication",
    "NewAlbum",
    "OpenedShare",
    "Shared",
    "share_token",
]

Change = Callable[[Album], object]
GuestChange = Callable[[Album, ClientKey | None], object]


class AlbumsApplication(Application[UUID]):
    """Events of the Photoflow context, stored in table ``albums_events``, read through
    ``AlbumMapper`` so events stored in an older shape come back in today's vocabulary."""

    name = "Albums"
    is_snapshotting_enabled = True  # taken by a worker: see commands.album_snapshots

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=AlbumMapper)


@dataclass(frozen=True)
class Shared:
    written: Written
    share_token: str
    """Handed to the photographer once; only its hash is recorded."""


@dataclass(frozen=True)
class OpenedShare:
    """The album a share link opens, and the link's expiry and download switch."""

    album_id: UUID
    org_id: UUID
    expires_at: datetime | None
    allow_download: bool
    watermark: bool


class _OwnerNeeded(DomainError):
    """Raised inside a decision (before any change) to look a folder's owner up, then retry."""

    def __init__(self, folder_id: UUID) -> None:
        super().__init__(f"the owner of folder {folder_id} is needed")
        self.folder_id = folder_id


class _KeyNeeded(DomainError):
    """Raised inside a decision (before any change) to fetch the client's key, then retry."""

    def __init__(self, album_id: UUID) -> None:
        super().__init__(f"the client key of album {album_id} is needed")
        self.album_id = album_id


class AlbumCommands:
    def __init__(
        self,
        app: Application[UUID],
        committer: GroupCommitter,
        link_key: bytes,
        folders: FolderOwners,
        roles: StudioRoles,
        links: ShareLinkCache | None = None,
        *,
        keys: ClientKeys,
    ) -> None:
        """``keys``: the clients' data keys. Required, and never defaulted to memory: a
        composition that forgot the store would seal a client's data with a key nobody keeps,
        which reads as forgotten from the first moment (the demo album once did)."""
        self._app = app
        self._committer = committer
        self._link_key = link_key
        self._folders = folders
        self._roles = roles
        self._links = links or NoShareLinkCache()
        self._keys = keys
        self._sealing: dict[UUID, ClientKey] = {}  # album -> its client's key, once fetched
        self._studios: dict[UUID, UUID] = {}  # album -> studio: an album never moves

    # The photographer's use cases ------------------------------------------------------------

    async def create(self, org_id: UUID, new: NewAlbum, member: Member) -> Written:
        await self._require(org_id, member, Action.EDIT_ALBUMS, NotFound("Organization", org_id))
        if new.folder_id is not None:
            await self.check_folder(org_id, new.folder_id)
        key = new_client_key()
        album = Album.create(org_id, new, member.actor, key=key)
        await self._keys.put(album.id, key)  # before the sealed event: every reader finds it
        self._sealing[album.id] = key
        return await self._write(lambda batch: batch.add(album))

    async def request_sync(
        self, album_id: UUID, member: Member, expected_version: int | None = None
    ) -> Written:
        """Ask Storage for a full sync of the album's folder, if the folder is its studio's.

        An album recorded on another studio's folder (before references were checked) gets a
        404 naming its folder, and no FullSyncStorage is recorded.
        """
        await self._member_may(album_id, member)
        return await self._on_own_folder(
            album_id, lambda a: a.request_sync(member.actor), expected_version
        )

    async def share(
        self,
        album_id: UUID,
        expires_at: datetime | None,
        allow_download: bool,
        member: Member,
        expected_version: int | None = None,
        watermark: bool = False,
    ) -> Shared:
        nonce = uuid4().hex
        token = share_token(self._link_key, album_id, nonce)
        token_hash = secret_digest(token.partition(".")[2])
        now = datetime.now(UTC)
        written = await self._changing_link(
            album_id,
            member,
            expected_version,
            lambda a: a.share(
                nonce, token_hash, expires_at, allow_download, member.actor, now, watermark
            ),
        )
        return Shared(written, token)

    def share_token_of(self, album_id: UUID, nonce: str) -> str:
        """The current link's token, rebuilt from its nonce as the Sender does for the mail: a
        photographer can copy the link again later; only its hash is recorded."""
        return share_token(self._link_key, album_id, nonce)

    async def revoke_share(
        self, album_id: UUID, member: Member, expected_version: int | None = None
    ) -> Written:
        return await self._changing_link(
            album_id, member, expected_version, lambda a: a.revoke_share(member.actor)
        )

    async def start_editing(
        self, album_id: UUID, member: Member, expected_version: int | None = None
    ) -> Written:
        return await self._as_member(
            album_id, member, expected_version, lambda a: a.start_editing(member.actor)
        )

    async def set_editing_status(
        self,
        album_id: UUID,
        photo_id: UUID,
        status: str,
        member: Member,
        expected_version: int | None = None,
    ) -> Written:
        return await self._as_member(
            album_id,
            member,
            expected_version,
            lambda a: a.set_proc_status(photo_id, status, member.actor),
        )

    async def deliver(
        self, album_id: UUID, member: Member, expected_version: int | None = None
    ) -> Written:
        return await self._as_member(
            album_id, member, expected_version, lambda a: a.deliver(member.actor)
        )

    async def tag(
        self, album_id: UUID, tag: str, member: Member, expected_version: int | None = None
    ) -> Written:
        return await self._as_member(
            album_id, member, expected_version, lambda a: a.tag(tag, member.actor)
        )

    async def untag(
        self, album_id: UUID, tag: str, member: Member, expected_version: int | None = None
    ) -> Written:
        return await self._as_member(
            album_id, member, expected_version, lambda a: a.untag(tag, member.actor)
        )

    async def archive(
        self, album_id: UUID, member: Member, expected_version: int | None = None
    ) -> Written:
        return await self._changing_link(
            album_id, member, expected_version, lambda a: a.archive(member.actor)
        )

    async def reopen(
        self, album_id: UUID, member: Member, expected_version: int | None = None
    ) -> Written:
        return await self._changing_link(
            album_id, member, expected_version, lambda a: a.reopen(member.actor)
        )

    async def forget_client(
        self, album_id: UUID, member: Member, expected_version: int | None = None
    ) -> Written:
        """Erase the client's and guests' personal data: record ``ClientForgotten`` (the link
        dies with it), then destroy the key. Asked again, it records nothing and destroys the
        key again, so a destruction that failed after the event is finished by a retry."""
        written = await self._changing_link(
            album_id,
            member,
            expected_version,
            lambda a: a.forget_client(member.actor),
            Action.FORGET_CLIENT,
        )
        self._sealing.pop(album_id, None)
        await self._keys.destroy(album_id)
        return written

    # The client's use cases (a guest of the share link) ---------------------------------------

    async def select(
        self, guest: Guest, photo_id: UUID, expected_version: int | None = None
    ) -> Written:
        return await self._as_guest(
            guest, expected_version, lambda a, k: a.select(photo_id, guest.name, key=k)
        )

    async def deselect(
        self, guest: Guest, photo_id: UUID, expected_version: int | None = None
    ) -> Written:
        return await self._as_guest(
            guest, expected_version, lambda a, k: a.deselect(photo_id, guest.name, key=k)
        )

    async def rate(
        self,
        guest: Guest,
        photo_id: UUID,
        rating: int,
        color: str | None,
        expected_version: int | None = None,
    ) -> Written:
        return await self._as_guest(
            guest,
            expected_version,
            lambda a, k: a.rate(photo_id, guest.name, rating, color, key=k),
        )

    async def comment(
        self, guest: Guest, photo_id: UUID, text: str, expected_version: int | None = None
    ) -> Written:
        comment_id = uuid4()
        return await self._as_guest(
            guest,
            expected_version,
            lambda a, k: a.comment(photo_id, comment_id, guest.name, text, key=k),
        )

    async def submit(self, guest: Guest, expected_version: int | None = None) -> Written:
        return await self._as_guest(
            guest, expected_version, lambda a, k: a.submit(guest.name, key=k)
        )

    async def request_changes(
        self, guest: Guest, note: str, expected_version: int | None = None
    ) -> Written:
        return await self._as_guest(
            guest, expected_version, lambda a, k: a.request_changes(guest.name, note, key=k)
        )

    async def approve(self, guest: Guest, expected_version: int | None = None) -> Written:
        return await self._as_guest(
            guest, expected_version, lambda a, k: a.approve(guest.name, key=k)
        )

    async def client_key(self, album_id: UUID) -> ClientKey | None:
        """The client's key, read afresh, for a reader of the album's sealed data (a share
        link's live stream); None once the client was forgotten."""
        return await self._keys.key_of(album_id)

    async def open_share(self, token: str) -> OpenedShare:
        """What a share token opens now; NotFound (wrong, revoked) or ShareGone.

        The link's own facts come from the album itself, so a client opening a link the
        photographer just shared sees its expiry and download switch at once.
        """
        album_id, token_hash = parse_share_token(token)

        async def load() -> ShareLinkFacts:
            album = await asyncio.to_thread(self._load, album_id)
            return album.share_link()

        link = await self._links.facts(album_id, load)
        link.open(token_hash, datetime.now(UTC))
        return OpenedShare(
            album_id, link.org_id, link.expires_at, link.allow_download, link.watermark
        )

    # The process manager's use case ----------------------------------------------------------

    async def update_photos(self, album_id: UUID, files: list[tuple[str, str]]) -> Written:
        """Bring the album's photos up to date after its folder's sync, if that folder is its own.

        ``files`` come from the folder the read side joined to the album; the check keeps
        another studio's file names out of an album recorded before references were checked.
        """
        return await self._on_own_folder(album_id, lambda a: a.update_photos(files), None)

    async def check_folder(self, org_id: UUID, folder_id: UUID) -> None:
        """NotFound naming ``folder_id`` unless that folder exists and is the studio's."""
        if await self._folders.owner_of(folder_id) != org_id:
            raise NotFound("Folder", folder_id)

    # How each kind of actor gets to change an album -----------------------------------------

    async def _write(self, decide: Decision) -> Written:
        """Commit the decision. No snapshot is taken here: the album-snapshots worker takes
        them, out of the API process (see ``commands.album_snapshots``)."""
        return await self._committer.execute(decide)

    async def _changing_link(
        self,
        album_id: UUID,
        member: Member,
        expected_version: int | None,
        change: Change,
        action: Action = Action.EDIT_ALBUMS,
    ) -> Written:
        """A member's command that changes whether or how the share link opens the album."""
        try:
            return await self._as_member(album_id, member, expected_version, change, action)
        finally:  # even a failed write may have been recorded (a lost answer): forget anyway
            await self._links.forget(album_id)

    async def _as_member(
        self,
        album_id: UUID,
        member: Member,
        expected_version: int | None,
        change: Change,
        action: Action = Action.EDIT_ALBUMS,
    ) -> Written:
        await self._member_may(album_id, member, action)

        def decide(batch: Batch) -> Album:
            album = batch.get(Album, album_id, expected_version)
            change(album)
            return album

        return await self._write(decide)

    async def _as_guest(
        self, guest: Guest, expected_version: int | None, change: GuestChange
    ) -> Written:
        """A guest's command, once its link opens the album, with the client's key to seal
        with (fetched, the first time, only for a link that opens its album)."""
        album_id, token_hash = parse_share_token(guest.share_token)
        now = datetime.now(UTC)

        def decide(batch: Batch) -> Album:
            try:
                album = batch.get(Album, album_id)
            except NotFound:
                raise NotFound("Album", "share link") from None
            album.check_share(token_hash, now)
            batch.get(Album, album_id, expected_version)  # only a valid link learns versions
            key = self._sealing.get(album_id)
            if key is None and not album.client_forgotten:
                raise _KeyNeeded(album_id)
            change(album, key)
            return album

        try:
            return await self._write(decide)
        except _KeyNeeded:
            key = await self._keys.key_to_seal(album_id)
            if key is not None:
                self._sealing[album_id] = key
            return await self._write(decide)  # without a key the album refuses: forgotten

    async def _member_may(
        self, album_id: UUID, member: Member, action: Action = Action.EDIT_ALBUMS
    ) -> None:
        """The member's role in the album's studio allows ``action``: else 404, or 403."""
        org_id = await self._studio_of(album_id)
        await self._require(org_id, member, action, NotFound("Album", album_id))

    async def _require(
        self, org_id: UUID, member: Member, action: Action, unknown: NotFound
    ) -> None:
        role = await self._roles.role_of(org_id, member.user_id)
        if role is None:
            raise unknown
        require(role, action)

    async def _studio_of(self, album_id: UUID) -> UUID:
        org_id = self._studios.get(album_id)
        if org_id is None:
            first = await asyncio.to_thread(self._first, album_id)
            org_id = self._studios.setdefault(album_id, first.org_id)
        return org_id

    def _first(self, album_id: UUID) -> Album:
        """The album as created: enough to know its studio, whatever followed."""
        try:
            album: object = self._app.repository.get(album_id, version=1)
        except AggregateNotFoundError:
            raise NotFound("Album", album_id) from None
        if not isinstance(album, Album):
            raise NotFound("Album", album_id)
        return album

    async def _on_own_folder(
        self, album_id: UUID, change: Change, expected_version: int | None
    ) -> Written:
        """Run ``change`` on the album only while its folder (if any) belongs to its studio."""
        owners: dict[UUID, UUID | None] = {}

        def decide(batch: Batch) -> Album:
            album = batch.get(Album, album_id, expected_version)
            folder_id = album.folder_id
            if folder_id is not None:
                if folder_id not in owners:
                    raise _OwnerNeeded(folder_id)
                if owners[folder_id] != album.org_id:
                    raise NotFound("Folder", folder_id)
            change(album)
            return album

        for _ in range(3):  # a folder id never changes owner; the album might change folder
            try:
                return await self._write(decide)
            except _OwnerNeeded as needed:
                owners[needed.folder_id] = await self._folders.owner_of(needed.folder_id)
        raise RuntimeError(f"album {album_id} kept changing its folder")

    def _load(self, album_id: UUID) -> Album:
        try:
            album: object = self._app.repository.get(album_id)
        except AggregateNotFoundError:
            raise NotFound("Album", "share link") from None
        if not isinstance(album, Album):
            raise NotFound("Album", "share link")
        return album
