"""The Album aggregate: one client's gallery, from sync to approved delivery.

Its workflow is one explicit state machine: ``TRANSITIONS`` says, for every command, the states
it may run in and the state it leads to, and is the table to check against the contract. A
command the current state forbids raises ``NotAllowedNow`` naming the state and the commands
that are allowed. Photos keep their id across resyncs (derived from the folder's file id), so
a surviving photo keeps its picks, ratings and comments; a removed photo's picks are released.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domains.errors import InvalidValue, NotFound, RuleBroken
from domains.text import check_text

DRAFT, SYNCING, READY, SHARED = "draft", "syncing", "ready", "shared"
SUBMITTED, EDITING, DELIVERED = "selection_submitted", "editing", "delivered"
CHANGES_REQUESTED, APPROVED, ARCHIVED = "changes_requested", "approved", "archived"
STATES = (
    DRAFT,
    SYNCING,
    READY,
    SHARED,
    SUBMITTED,
    EDITING,
    DELIVERED,
    CHANGES_REQUESTED,
    APPROVED,
    ARCHIVED,
)
LIVE = frozenset(STATES) - {ARCHIVED}

# command -> (the states it may run in, the state it leads to; None keeps the state)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "sync": (frozenset({DRAFT, READY, SHARED}), SYNCING),
    "finish_sync": (frozenset({SYNCING}), READY),  # back to shared if it was shared
    "share": (frozenset({READY, SHARED}), SHARED),
    "select": (frozenset({SHARED}), None),
    "rate": (frozenset({SHARED}), None),
    "comment": (frozenset({SHARED, SUBMITTED, EDITING, DELIVERED, CHANGES_REQUESTED}), None),
    "submit": (frozenset({SHARED}), SUBMITTED),
    "start_editing": (frozenset({SUBMITTED, CHANGES_REQUESTED}), EDITING),
    "set_proc_status": (frozenset({EDITING, CHANGES_REQUESTED}), None),
    "deliver": (frozenset({EDITING}), DELIVERED),
    "request_changes": (frozenset({DELIVERED}), CHANGES_REQUESTED),
    "approve": (frozenset({DELIVERED}), APPROVED),
    "tag": (LIVE, None),
    "archive": (LIVE, ARCHIVED),
    "reopen": (frozenset({ARCHIVED}), None),  # to the state it left
}
PROC_STATUSES = ("pending", "editing", "edited", "rejected")
COLORS = ("red", "yellow", "green", "blue", "purple")
ALBUMS_NAMESPACE = UUID("0f5f8d7e-4b53-4c1d-9a57-3c2f3bb1f6a1")


class NotAllowedNow(RuleBroken):
    def __init__(self, command: str, state: str) -> None:
        allowed = sorted(c for c, (states, _) in TRANSITIONS.items() if state in states)
        super().__init__(
            f"'{command}' is not allowed while the album is {state}; "
            f"allowed now: {', '.join(allowed) or 'nothing'}"
        )
        self.command, self.state, self.allowed = command, state, allowed


class SelectionFull(RuleBroken):
    pass


def photo_id_for(album_id: UUID, file_id: str) -> UUID:
    return uuid5(ALBUMS_NAMESPACE, f"{album_id}:{file_id}")


@dataclass
class Photo:
    file_id: str
    name: str
    picked_by: set[str] = field(default_factory=set)
    ratings: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    comment_count: int = 0
    proc_status: str = "pending"


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

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 had no nonce: its link cannot be rebuilt, so it gets none."""
            state["nonce"] = ""

        expires_at: datetime | None
        allow_download: bool
        actor: str

    class PhotoSelected(Aggregate.Event):
        org_id: UUID
        photo_id: UUID
        guest: str

    class PhotoDeselected(Aggregate.Event):
        org_id: UUID
        photo_id: UUID
        guest: str

    class PhotoRated(Aggregate.Event):
        org_id: UUID
        photo_id: UUID
        guest: str
        rating: int
        color: str | None

    class CommentAdded(Aggregate.Event):
        org_id: UUID
        photo_id: UUID
        comment_id: UUID
        author: str
        text: str

    class StateChanged(Aggregate.Event):
        """A workflow step: submit, start editing, deliver, request changes, approve..."""

        org_id: UUID
        command: str
        state: str
        note: str | None
        actor: str

    class ProcStatusSet(Aggregate.Event):
        org_id: UUID
        photo_id: UUID
        status: str
        actor: str

    class Tagged(Aggregate.Event):
        org_id: UUID
        tags: list[str]
        actor: str

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

    @classmethod
    def create(
        cls,
        org_id: UUID,
        title: str,
        client_name: str,
        client_email: str,
        folder_id: UUID | None,
        tags: list[str],
        selection_limit: int | None,
        actor_id: UUID,
    ) -> Album:
        cleaned = " ".join(check_text("title", title).split())
        if not cleaned or len(cleaned) > 200:
            raise InvalidValue("title", "must be 1 to 200 characters")
        if selection_limit is not None and selection_limit < 1:
            raise InvalidValue("selection_limit", "must be at least 1")
        client = {
            "name": " ".join(check_text("client.name", client_name).split()),
            "email": check_text("client.email", client_email).strip().lower(),
        }
        if not client["name"]:
            raise InvalidValue("client.name", "must not be empty")
        return cls(
            org_id=org_id,
            title=cleaned,
            client=client,
            folder_id=folder_id,
            tags=_clean_tags(tags),
            selection_limit=selection_limit,
            actor=str(actor_id),
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
    ) -> None:
        """Share under a new link; its nonce lets the Sender rebuild the link with our key."""
        self.allowed("share")
        self._shared(
            org_id=self.org_id,
            nonce=nonce,
            token_hash=token_hash,
            expires_at=expires_at,
            allow_download=allow_download,
            actor=actor,
        )

    def step(self, command: str, actor: str, note: str | None = None) -> None:
        """submit, start_editing, deliver, request_changes, approve, archive, reopen."""
        self.allowed(command)
        check_text("actor", actor)
        if note is not None:
            check_text("text", note, multiline=True)
        target = TRANSITIONS[command][1]
        if command == "reopen":
            target = self.state_before_archive
        if command == "submit" and not self.selected():
            raise RuleBroken("pick at least one photo before submitting")
        assert target is not None
        self._state_changed(
            org_id=self.org_id, command=command, state=target, note=note, actor=actor
        )

    def set_proc_status(self, photo_id: UUID, status: str, actor: str) -> None:
        self.allowed("set_proc_status")
        if status not in PROC_STATUSES:
            raise InvalidValue("status", f"must be one of {', '.join(PROC_STATUSES)}")
        self.photo(photo_id)
        self._proc_status_set(org_id=self.org_id, photo_id=photo_id, status=status, actor=actor)

    def tag(self, add: list[str], remove: list[str], actor: str) -> None:
        self.allowed("tag")
        tags = [t for t in self.tags if t not in set(_clean_tags(remove))]
        tags = _clean_tags(tags + add)
        if tags != self.tags:
            self._tagged(org_id=self.org_id, tags=tags, actor=actor)

    # Client's commands (through the share link) ----------------------------------------------

    def check_share(self, token_hash: str, now: datetime) -> None:
        """The share link opens this album only while it is valid; else it names nothing."""
        if self.share_token_hash is None or token_hash != self.share_token_hash:
            raise NotFound("Album", "share link")
        if self.state == ARCHIVED or (self.share_expires_at and now >= self.share_expires_at):
            raise NotFound("Album", "share link")

    def select(self, photo_id: UUID, guest: str) -> None:
        self.allowed("select")
        check_text("guest", guest)
        photo = self.photo(photo_id)
        if guest in photo.picked_by:
            return
        limit = self.selection_limit
        if not photo.picked_by and limit is not None and len(self.selected()) >= limit:
            raise SelectionFull(f"the selection is full: at most {limit} photos")
        self._photo_selected(org_id=self.org_id, photo_id=photo_id, guest=guest)

    def deselect(self, photo_id: UUID, guest: str) -> None:
        self.allowed("select")
        check_text("guest", guest)
        if guest in self.photo(photo_id).picked_by:
            self._photo_deselected(org_id=self.org_id, photo_id=photo_id, guest=guest)

    def rate(self, photo_id: UUID, guest: str, rating: int, color: str | None) -> None:
        self.allowed("rate")
        check_text("guest", guest)
        self.photo(photo_id)
        if not 0 <= rating <= 5:
            raise InvalidValue("rating", "must be 0 to 5")
        if color is not None and color not in COLORS:
            raise InvalidValue("color", f"must be one of {', '.join(COLORS)}")
        self._photo_rated(
            org_id=self.org_id, photo_id=photo_id, guest=guest, rating=rating, color=color
        )

    def comment(self, photo_id: UUID, comment_id: UUID, author: str, text: str) -> None:
        self.allowed("comment")
        check_text("author", author)
        self.photo(photo_id)
        cleaned = check_text("text", text, multiline=True).strip()
        if not cleaned or len(cleaned) > 4000:
            raise InvalidValue("text", "must be 1 to 4000 characters")
        self._comment_added(
            org_id=self.org_id,
            photo_id=photo_id,
            comment_id=comment_id,
            author=author,
            text=cleaned,
        )

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
        actor: str,
    ) -> None:
        self.share_token_hash = token_hash
        self.share_expires_at = expires_at
        self.allow_download = allow_download
        self.state = SHARED

    @event(PhotoSelected)
    def _photo_selected(self, org_id: UUID, photo_id: UUID, guest: str) -> None:
        self.photos[photo_id].picked_by.add(guest)

    @event(PhotoDeselected)
    def _photo_deselected(self, org_id: UUID, photo_id: UUID, guest: str) -> None:
        self.photos[photo_id].picked_by.discard(guest)

    @event(PhotoRated)
    def _photo_rated(
        self, org_id: UUID, photo_id: UUID, guest: str, rating: int, color: str | None
    ) -> None:
        self.photos[photo_id].ratings[guest] = (rating, color)

    @event(CommentAdded)
    def _comment_added(
        self, org_id: UUID, photo_id: UUID, comment_id: UUID, author: str, text: str
    ) -> None:
        self.photos[photo_id].comment_count += 1

    @event(StateChanged)
    def _state_changed(
        self, org_id: UUID, command: str, state: str, note: str | None, actor: str
    ) -> None:
        if state == ARCHIVED:
            self.state_before_archive = self.state
        self.state = state

    @event(ProcStatusSet)
    def _proc_status_set(self, org_id: UUID, photo_id: UUID, status: str, actor: str) -> None:
        self.photos[photo_id].proc_status = status

    @event(Tagged)
    def _tagged(self, org_id: UUID, tags: list[str], actor: str) -> None:
        self.tags = tags


def _clean_tags(tags: list[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        t = " ".join(check_text("tag", tag).split()).lower()
        if not t or len(t) > 50:
            raise InvalidValue("tag", "must be 1 to 50 characters")
        if t not in cleaned:
            cleaned.append(t)
    return cleaned
