"""The Album aggregate: one client's gallery, from sync to approved delivery.

Its workflow is the table in ``domains.album_workflow``. Each workflow step and photo action is
recorded as its own past-tense event naming its actor (a member's user id, or
``client:<guest>``), so a subscriber reacts to ``SelectionSubmitted`` rather than parsing
command names. Photos keep their id across resyncs (derived from the folder's file id), so a
surviving photo keeps its picks, ratings and comments; a removed photo's picks are released.
Picks, ratings and colours are kept per guest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domains.album_workflow import (
    APPROVED,
    ARCHIVED,
    CHANGES_REQUESTED,
    COLORS,
    DELIVERED,
    DRAFT,
    EDITING,
    PROC_STATUSES,
    READY,
    SHARED,
    STATES,
    SUBMITTED,
    SYNCING,
    TRANSITIONS,
    NotAllowedNow,
    SelectionFull,
)
from domains.errors import InvalidValue, NotFound, RuleBroken
from domains.personal_data import FORGOTTEN, ClientKey, guest_actor
from domains.share_link import ShareLinkFacts
from domains.text import check_email, check_text

__all__ = [
    "STATES",
    "TRANSITIONS",
    "Album",
    "NewAlbum",
    "NotAllowedNow",
    "SelectionFull",
    "photo_id_for",
]

ALBUMS_NAMESPACE = UUID("0f5f8d7e-4b53-4c1d-9a57-3c2f3bb1f6a1")


def photo_id_for(album_id: UUID, file_id: str) -> UUID:
    return uuid5(ALBUMS_NAMESPACE, f"{album_id}:{file_id}")


@dataclass(frozen=True)
class NewAlbum:
    """What a photographer fills in to create an album (checked by ``Album.create``)."""

    title: str
    client_name: str
    client_email: str
    folder_id: UUID | None = None
    tags: tuple[str, ...] | list[str] = ()
    selection_limit: int | None = None


@dataclass
class Photo:
    file_id: str
    name: str
    picked_by: set[str] = field(default_factory=set)
    ratings: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    comment_count: int = 0
    proc_status: str = "pending"


def _guest_actor(state: dict[str, Any]) -> None:
    """Version 1 of a guest's event named the guest only; its actor is ``client:<guest>``."""
    state["actor"] = f"client:{state['guest']}"


def _plain_stays(state: dict[str, Any]) -> None:
    """From this version on, the fields marked x-sealed are sealed with the client's key (see
    SealedText, ``domains.personal_data``). Older events carry them in plain text: read as
    they are, and not forgotten with the key."""


FORGOTTEN_CLIENT = "the album's client was forgotten: nothing of theirs is recorded any more"


class Album(Aggregate):
    """A gallery. Every event names its studio (``org_id``)."""

    class Created(Aggregate.Created):
        org_id: UUID
        title: str
        client: dict[str, str]
        folder_id: UUID | None
        tags: list[str]
        selection_limit: int | None
        actor: str

        class_version = 2
        upcast_v1_v2 = staticmethod(_plain_stays)  # 2: client's name and email sealed

    class SyncRequested(Aggregate.Event):
        org_id: UUID
        folder_id: UUID
        actor: str

    class PhotosAdded(Aggregate.Event):
        org_id: UUID
        photos: list[dict[str, Any]]  # photo_id, file_id, name

    class PhotosRemoved(Aggregate.Event):
        org_id: UUID
        photo_ids: list[UUID]

    class SyncFinished(Aggregate.Event):
        org_id: UUID
        state: str
        photo_count: int

    class Shared(Aggregate.Event):
        org_id: UUID
        nonce: str
        token_hash: str
        expires_at: datetime | None
        allow_download: bool
        watermark: bool
        actor: str

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 had no nonce: its link cannot be rebuilt, so it gets none."""
            state["nonce"] = ""

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Before watermarks, every link showed clean previews."""
            state["watermark"] = False

    class ShareRevoked(Aggregate.Event):
        org_id: UUID
        actor: str

    class PhotoSelected(Aggregate.Event):
        org_id: UUID
        photo_id: UUID
        guest: str
        actor: str

        class_version = 3
        upcast_v1_v2 = staticmethod(_guest_actor)
        upcast_v2_v3 = staticmethod(_plain_stays)  # 3: guest sealed, actor client:<sealed>

    class PhotoDeselected(Aggregate.Event):
        org_id: UUID
        photo_id: UUID
        guest: str
        actor: str

        class_version = 3
        upcast_v1_v2 = staticmethod(_guest_actor)
        upcast_v2_v3 = staticmethod(_plain_stays)  # 3: guest sealed, actor client:<sealed>

    class PhotoRated(Aggregate.Event):
        org_id: UUID
        photo_id: UUID
        guest: str
        rating: int
        color: str | None
        actor: str

        class_version = 3
        upcast_v1_v2 = staticmethod(_guest_actor)
        upcast_v2_v3 = staticmethod(_plain_stays)  # 3: guest sealed, actor client:<sealed>

    class CommentAdded(Aggregate.Event):
        org_id: UUID
        photo_id: UUID
        comment_id: UUID
        author: str
        text: str
        actor: str

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 named the author only; the author is the actor."""
            state["actor"] = state["author"]

        upcast_v2_v3 = staticmethod(_plain_stays)  # 3: text sealed, author client:<sealed>

    class SelectionSubmitted(Aggregate.Event):
        org_id: UUID
        actor: str

        class_version = 2
        upcast_v1_v2 = staticmethod(_plain_stays)  # 2: actor client:<sealed>

    class EditingStarted(Aggregate.Event):
        org_id: UUID
        actor: str

    class ProcStatusSet(Aggregate.Event):
        """A photo's editing status was set (the photographer's "set editing status")."""

        org_id: UUID
        photo_id: UUID
        status: str
        actor: str

    class Delivered(Aggregate.Event):
        org_id: UUID
        actor: str

    class ChangesRequested(Aggregate.Event):
        org_id: UUID
        note: str | None
        actor: str

        class_version = 2
        upcast_v1_v2 = staticmethod(_plain_stays)  # 2: note sealed, actor client:<sealed>

    class Approved(Aggregate.Event):
        org_id: UUID
        actor: str

        class_version = 2
        upcast_v1_v2 = staticmethod(_plain_stays)  # 2: actor client:<sealed>

    class Archived(Aggregate.Event):
        org_id: UUID
        actor: str

    class Reopened(Aggregate.Event):
        org_id: UUID
        state: str
        actor: str

    class Tagged(Aggregate.Event):
        org_id: UUID
        tags: list[str]
        actor: str

    class Untagged(Aggregate.Event):
        org_id: UUID
        tag: str
        tags: list[str]
        actor: str

    class ClientForgotten(Aggregate.Event):
        """The client's key was destroyed: every sealed value of the album reads as forgotten.

        Recorded before the key is destroyed; the share link dies with it (there is no client
        left to open it) and nothing of a client is recorded any more.
        """

        org_id: UUID
        actor: str

    client_forgotten = False
    """Whether the client was forgotten (a class default: older snapshots lack it)."""

    SECRET_STATE: ClassVar[frozenset[str]] = frozenset({"share_token_hash", "photos"})

    @event(Created)
    def __init__(
        self,
        org_id: UUID,
        title: str,
        client: dict[str, str],
        folder_id: UUID | None,
        tags: list[str],
        selection_limit: int | None,
        actor: str,
    ) -> None:
        self.org_id = org_id
        self.title = title
        self.client = client
        self.folder_id = folder_id
        self.tags = tags
        self.selection_limit = selection_limit
        self.state = DRAFT
        self.state_before_sync = DRAFT
        self.state_before_archive = DRAFT
        self.photos: dict[UUID, Photo] = {}
        self.share_token_hash: str | None = None
        self.share_expires_at: datetime | None = None
        self.allow_download = False
        self.watermark = False

    @classmethod
    def create(cls, org_id: UUID, new: NewAlbum, actor: str, *, key: ClientKey) -> Album:
        """A new album; its client's name and email are recorded sealed with ``key``."""
        cleaned = " ".join(check_text("title", new.title).split())
        if not cleaned or len(cleaned) > 200:
            raise InvalidValue("title", "must be 1 to 200 characters")
        if new.selection_limit is not None and new.selection_limit < 1:
            raise InvalidValue("selection_limit", "must be at least 1")
        client = {
            "name": " ".join(check_text("client.name", new.client_name).split()),
            "email": check_email("client.email", new.client_email),
        }
        if not client["name"]:
            raise InvalidValue("client.name", "must not be empty")
        return cls(
            org_id=org_id,
            title=cleaned,
            client={field: key.seal(value) for field, value in client.items()},
            folder_id=new.folder_id,
            tags=_clean_tags(list(new.tags)),
            selection_limit=new.selection_limit,
            actor=check_text("actor", actor),
        )

    # Queries ---------------------------------------------------------------------------------

    def allowed(self, command: str) -> None:
        states, _ = TRANSITIONS[command]
        if self.state not in states:
            raise NotAllowedNow(command, self.state)

    def selected(self) -> set[UUID]:
        return {pid for pid, photo in self.photos.items() if photo.picked_by}

    def photo(self, photo_id: UUID) -> Photo:
        found = self.photos.get(photo_id)
        if found is None:
            raise NotFound("Photo", photo_id)
        return found

    def share_link(self) -> ShareLinkFacts:
        """The facts that decide whether a share link opens this album now."""
        return ShareLinkFacts(
            album_id=self.id,
            org_id=self.org_id,
            token_hash=self.share_token_hash,
            expires_at=self.share_expires_at,
            archived=self.state == ARCHIVED,
            allow_download=self.allow_download,
            watermark=self.watermark,
        )

    def check_share(self, token_hash: str, now: datetime) -> None:
        """NotFound for a wrong or revoked link; ShareGone saying why for a dead one."""
        self.share_link().open(token_hash, now)

    def sealed(self, text: str, key: ClientKey | None) -> str:
        """``text`` sealed with the client's key; refused once the client was forgotten."""
        if key is None or self.client_forgotten:
            raise RuleBroken(FORGOTTEN_CLIENT)
        return key.seal(text)

    def _guest(self, guest: str, key: ClientKey | None) -> str:
        """A guest's identity in this album: its name, sealed (the same every time)."""
        return self.sealed(check_text("guest", guest), key)

    # Photographer's commands -----------------------------------------------------------------

    def request_sync(self, actor: str) -> UUID:
        self.allowed("sync")
        if self.folder_id is None:
            raise RuleBroken("the album has no folder to sync from")
        self._sync_requested(org_id=self.org_id, folder_id=self.folder_id, actor=actor)
        return self.folder_id

    def update_photos(self, files: list[tuple[str, str]]) -> None:
        """Bring the photos up to date with the folder's files (id, name) after a sync."""
        self.allowed("finish_sync")
        wanted = {photo_id_for(self.id, file_id): (file_id, name) for file_id, name in files}
        added = [
            {"photo_id": pid, "file_id": f, "name": n}
            for pid, (f, n) in wanted.items()
            if pid not in self.photos or self.photos[pid].name != n
        ]
        gone = [pid for pid in self.photos if pid not in wanted]
        for start in range(0, len(added), 2000):
            self._photos_added(org_id=self.org_id, photos=added[start : start + 2000])
        for start in range(0, len(gone), 2000):
            self._photos_removed(org_id=self.org_id, photo_ids=gone[start : start + 2000])
        back_to = SHARED if self.state_before_sync == SHARED else READY
        self._sync_finished(org_id=self.org_id, state=back_to, photo_count=len(self.photos))

    def share(
        self,
        nonce: str,
        token_hash: str,
        expires_at: datetime | None,
        allow_download: bool,
        actor: str,
        now: datetime,
        watermark: bool = False,
    ) -> None:
        """Share under a new link; its nonce lets the Sender rebuild the link with our key.

        ``watermark``: the client's previews carry the studio's watermark (members' never do).
        """
        self.allowed("share")
        if self.client_forgotten:
            raise RuleBroken(FORGOTTEN_CLIENT)
        if expires_at is not None and expires_at <= now:
            raise InvalidValue("expires_at", "must be in the future")
        self._shared(
            org_id=self.org_id,
            nonce=nonce,
            token_hash=token_hash,
            expires_at=expires_at,
            allow_download=allow_download,
            watermark=watermark,
            actor=actor,
        )

    def revoke_share(self, actor: str) -> None:
        """Kill the current link; there must be one (else NotFound, like the link itself)."""
        self.allowed("revoke_share")
        if self.share_token_hash is None:
            raise NotFound("Share link of album", self.id)
        self._share_revoked(org_id=self.org_id, actor=actor)

    def start_editing(self, actor: str) -> None:
        self.allowed("start_editing")
        self._editing_started(org_id=self.org_id, actor=check_text("actor", actor))

    def set_proc_status(self, photo_id: UUID, status: str, actor: str) -> None:
        self.allowed("set_proc_status")
        if status not in PROC_STATUSES:
            raise InvalidValue("status", f"must be one of {', '.join(PROC_STATUSES)}")
        self.photo(photo_id)
        self._proc_status_set(org_id=self.org_id, photo_id=photo_id, status=status, actor=actor)

    def deliver(self, actor: str) -> None:
        self.allowed("deliver")
        self._delivered(org_id=self.org_id, actor=check_text("actor", actor))

    def archive(self, actor: str) -> None:
        self.allowed("archive")
        self._archived(org_id=self.org_id, actor=check_text("actor", actor))

    def reopen(self, actor: str) -> None:
        """Back to the state the album was archived from."""
        self.allowed("reopen")
        self._reopened(
            org_id=self.org_id, state=self.state_before_archive, actor=check_text("actor", actor)
        )

    def tag(self, tag: str, actor: str) -> None:
        """Add a tag; one the album has already records nothing."""
        self.allowed("tag")
        tags = _clean_tags([*self.tags, tag])
        if tags != self.tags:
            self._tagged(org_id=self.org_id, tags=tags, actor=actor)

    def untag(self, tag: str, actor: str) -> None:
        """Remove a tag; one the album does not have records nothing."""
        self.allowed("tag")
        [gone] = _clean_tags([tag])
        if gone in self.tags:
            rest = [t for t in self.tags if t != gone]
            self._untagged(org_id=self.org_id, tag=gone, tags=rest, actor=actor)

    # Client's commands (through the share link) ----------------------------------------------

    # Each takes the client's ``key``: every name and text of the client is recorded sealed.

    def select(self, photo_id: UUID, guest: str, *, key: ClientKey | None) -> None:
        self.allowed("select")
        sealed = self._guest(guest, key)
        photo = self.photo(photo_id)
        if sealed in photo.picked_by or guest in photo.picked_by:  # plain: picked before sealing
            return
        limit = self.selection_limit
        if not photo.picked_by and limit is not None and len(self.selected()) >= limit:
            raise SelectionFull(f"the selection is full: at most {limit} photos")
        self._photo_selected(
            org_id=self.org_id, photo_id=photo_id, guest=sealed, actor=guest_actor(sealed)
        )

    def deselect(self, photo_id: UUID, guest: str, *, key: ClientKey | None) -> None:
        self.allowed("select")
        sealed = self._guest(guest, key)
        picked_by = self.photo(photo_id).picked_by
        # a pick recorded before sealing names the guest plainly: that is the one to release
        recorded = sealed if sealed in picked_by else guest if guest in picked_by else None
        if recorded is not None:
            self._photo_deselected(
                org_id=self.org_id, photo_id=photo_id, guest=recorded, actor=guest_actor(sealed)
            )

    def rate(
        self, photo_id: UUID, guest: str, rating: int, color: str | None, *, key: ClientKey | None
    ) -> None:
        """This guest's rating and colour of the photo; other guests' stay as they are."""
        self.allowed("rate")
        sealed = self._guest(guest, key)
        self.photo(photo_id)
        if not 0 <= rating <= 5:
            raise InvalidValue("rating", "must be 0 to 5")
        if color is not None and color not in COLORS:
            raise InvalidValue("color", f"must be one of {', '.join(COLORS)}")
        self._photo_rated(
            org_id=self.org_id,
            photo_id=photo_id,
            guest=sealed,
            rating=rating,
            color=color,
            actor=guest_actor(sealed),
        )

    def comment(
        self, photo_id: UUID, comment_id: UUID, guest: str, text: str, *, key: ClientKey | None
    ) -> None:
        """A guest's comment; its author is ``client:<sealed name>`` and its text is sealed."""
        self.allowed("comment")
        author = guest_actor(self._guest(guest, key))
        self.photo(photo_id)
        cleaned = check_text("text", text, multiline=True).strip()
        if not cleaned or len(cleaned) > 4000:
            raise InvalidValue("text", "must be 1 to 4000 characters")
        self._comment_added(
            org_id=self.org_id,
            photo_id=photo_id,
            comment_id=comment_id,
            author=author,
            text=self.sealed(cleaned, key),
            actor=author,
        )

    def submit(self, guest: str, *, key: ClientKey | None) -> None:
        self.allowed("submit")
        actor = guest_actor(self._guest(guest, key))
        if not self.selected():
            raise RuleBroken("pick at least one photo before submitting")
        self._selection_submitted(org_id=self.org_id, actor=actor)

    def request_changes(
        self, guest: str, note: str | None = None, *, key: ClientKey | None
    ) -> None:
        self.allowed("request_changes")
        actor = guest_actor(self._guest(guest, key))
        if note is not None:
            note = self.sealed(check_text("text", note, multiline=True), key)
        self._changes_requested(org_id=self.org_id, note=note, actor=actor)

    def approve(self, guest: str, *, key: ClientKey | None) -> None:
        self.allowed("approve")
        self._approved(org_id=self.org_id, actor=guest_actor(self._guest(guest, key)))

    # Forgetting the client ---------------------------------------------------------------------

    def forget_client(self, actor: str) -> bool:
        """Record that the client's key goes; False when it was forgotten already (the key's
        destruction may be repeated: nothing is recorded twice)."""
        if self.client_forgotten:
            return False
        self._client_forgotten(org_id=self.org_id, actor=check_text("actor", actor))
        return True

    # Events: they only set state -----------------------------------------------------------

    @event(SyncRequested)
    def _sync_requested(self, org_id: UUID, folder_id: UUID, actor: str) -> None:
        self.state_before_sync = self.state
        self.state = SYNCING

    @event(PhotosAdded)
    def _photos_added(self, org_id: UUID, photos: list[dict[str, Any]]) -> None:
        for p in photos:
            pid = UUID(str(p["photo_id"]))
            if pid in self.photos:
                self.photos[pid].name = p["name"]
            else:
                self.photos[pid] = Photo(p["file_id"], p["name"])

    @event(PhotosRemoved)
    def _photos_removed(self, org_id: UUID, photo_ids: list[UUID]) -> None:
        for pid in photo_ids:
            self.photos.pop(UUID(str(pid)), None)

    @event(SyncFinished)
    def _sync_finished(self, org_id: UUID, state: str, photo_count: int) -> None:
        self.state = state

    @event(Shared)
    def _shared(
        self,
        org_id: UUID,
        nonce: str,
        token_hash: str,
        expires_at: datetime | None,
        allow_download: bool,
        watermark: bool,
        actor: str,
    ) -> None:
        self.share_token_hash = token_hash
        self.share_expires_at = expires_at
        self.allow_download = allow_download
        self.watermark = watermark
        self.state = SHARED

    @event(ShareRevoked)
    def _share_revoked(self, org_id: UUID, actor: str) -> None:
        self.share_token_hash = None
        self.share_expires_at = None
        self.allow_download = False
        self.watermark = False

    @event(PhotoSelected)
    def _photo_selected(self, org_id: UUID, photo_id: UUID, guest: str, actor: str) -> None:
        self.photos[photo_id].picked_by.add(guest)

    @event(PhotoDeselected)
    def _photo_deselected(self, org_id: UUID, photo_id: UUID, guest: str, actor: str) -> None:
        self.photos[photo_id].picked_by.discard(guest)

    @event(PhotoRated)
    def _photo_rated(
        self,
        org_id: UUID,
        photo_id: UUID,
        guest: str,
        rating: int,
        color: str | None,
        actor: str,
    ) -> None:
        self.photos[photo_id].ratings[guest] = (rating, color)

    @event(CommentAdded)
    def _comment_added(
        self, org_id: UUID, photo_id: UUID, comment_id: UUID, author: str, text: str, actor: str
    ) -> None:
        self.photos[photo_id].comment_count += 1

    @event(SelectionSubmitted)
    def _selection_submitted(self, org_id: UUID, actor: str) -> None:
        self.state = SUBMITTED

    @event(EditingStarted)
    def _editing_started(self, org_id: UUID, actor: str) -> None:
        self.state = EDITING

    @event(ProcStatusSet)
    def _proc_status_set(self, org_id: UUID, photo_id: UUID, status: str, actor: str) -> None:
        self.photos[photo_id].proc_status = status

    @event(Delivered)
    def _delivered(self, org_id: UUID, actor: str) -> None:
        self.state = DELIVERED

    @event(ChangesRequested)
    def _changes_requested(self, org_id: UUID, note: str | None, actor: str) -> None:
        self.state = CHANGES_REQUESTED

    @event(Approved)
    def _approved(self, org_id: UUID, actor: str) -> None:
        self.state = APPROVED

    @event(Archived)
    def _archived(self, org_id: UUID, actor: str) -> None:
        self.state_before_archive = self.state
        self.state = ARCHIVED

    @event(Reopened)
    def _reopened(self, org_id: UUID, state: str, actor: str) -> None:
        self.state = state

    @event(Tagged)
    def _tagged(self, org_id: UUID, tags: list[str], actor: str) -> None:
        self.tags = tags

    @event(Untagged)
    def _untagged(self, org_id: UUID, tag: str, tags: list[str], actor: str) -> None:
        self.tags = tags

    @event(ClientForgotten)
    def _client_forgotten(self, org_id: UUID, actor: str) -> None:
        self.client_forgotten = True
        self.client = {"name": FORGOTTEN, "email": FORGOTTEN}
        self.share_token_hash = None
        self.share_expires_at = None
        self.allow_download = False
        self.watermark = False


def _clean_tags(tags: list[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        t = " ".join(check_text("tag", tag).split()).lower()
        if not t or len(t) > 50:
            raise InvalidValue("tag", "must be 1 to 50 characters")
        if t not in cleaned:
            cleaned.append(t)
    return cleaned
