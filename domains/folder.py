"""The Folder aggregate: a place in a studio's storage, its file catalogue and its syncs.

A sync records what changed in batches (FilesDiscovered, FilesRemoved), so that a folder of
100,000 files is about a hundred events per full sync rather than 100,000, and no event is
huge. The aggregate keeps one short fingerprint per file (checksum, path and name) to tell new,
changed and unchanged files apart; snapshots keep loading it fast.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domains.errors import InvalidValue, RuleBroken
from domains.files import FileInfo
from domains.text import check_text, scrubbed

PROVIDERS = ("local", "google_drive", "s3")
MODES = ("full", "incremental")
LISTED_INCREMENTALLY = ("local", "s3")
"""Providers without a change feed whose incremental sync compares a listing to the catalogue
(by modification time and checksum), so only what changed is read and recorded."""


def fingerprint(checksum: str, path: str, name: str) -> str:
    """What identifies a file's content and place: a change to any of them is a change."""
    return f"{checksum}|{path}|{name}"


def file_record(file: FileInfo) -> dict[str, Any]:
    return asdict(file)


class SyncRunning(RuleBroken):
    """A second sync of a folder was asked for while one runs; it joins the running one."""

    def __init__(self, sync_id: UUID) -> None:
        super().__init__(f"sync {sync_id} is already running for this folder")
        self.sync_id = sync_id


class Folder(Aggregate):
    """A synced folder. Every event names its studio (``org_id``) for tenant filtering."""

    class Registered(Aggregate.Created):
        org_id: UUID
        provider: str
        location: str
        name: str
        actor: str

    class SyncStarted(Aggregate.Event):
        """``mode`` is what runs; ``requested_mode`` what was asked for (an incremental sync
        with nothing to compare against yet runs as full, and says so)."""

        org_id: UUID
        sync_id: UUID
        mode: str
        actor: str
        requested_mode: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 did not say what was asked for: what ran is the best answer."""
            state["requested_mode"] = state["mode"]

    class FilesDiscovered(Aggregate.Event):
        """New or changed files, up to a batch's worth."""

        org_id: UUID
        sync_id: UUID
        files: list[dict[str, Any]]
        added: int
        changed: int

    class FilesRemoved(Aggregate.Event):
        org_id: UUID
        sync_id: UUID
        file_ids: list[str]

    class SyncProgressed(Aggregate.Event):
        org_id: UUID
        sync_id: UUID
        processed: int
        total: int | None

    class SyncCompleted(Aggregate.Event):
        org_id: UUID
        sync_id: UUID
        added: int
        changed: int
        removed: int
        total: int
        cursor: str | None

    class SyncFailed(Aggregate.Event):
        org_id: UUID
        sync_id: UUID
        reason: str

    SECRET_STATE: ClassVar[frozenset[str]] = frozenset({"catalogue"})

    @event(Registered)
    def __init__(self, org_id: UUID, provider: str, location: str, name: str, actor: str) -> None:
        self.org_id = org_id
        self.provider = provider
        self.location = location
        self.name = name
        self.catalogue: dict[str, str] = {}  # file id -> fingerprint
        self.cursor: str | None = None
        self.sync_id: UUID | None = None
        self.sync_mode: str | None = None
        self.sync_counts = {"added": 0, "changed": 0, "removed": 0}

    @classmethod
    def register(
        cls, org_id: UUID, provider: str, location: str, name: str, actor_id: UUID
    ) -> Folder:
        if provider not in PROVIDERS:
            raise InvalidValue("provider", f"must be one of {', '.join(PROVIDERS)}")
        if not check_text("location", location).strip():
            raise InvalidValue("location", "must not be empty")
        cleaned = " ".join(check_text("name", name).split())
        if not cleaned or len(cleaned) > 200:
            raise InvalidValue("name", "must be 1 to 200 characters")
        return cls(
            org_id=org_id,
            provider=provider,
            location=location.strip(),
            name=cleaned,
            actor=str(actor_id),
        )

    @property
    def syncing(self) -> bool:
        return self.sync_id is not None

    # Commands --------------------------------------------------------------------------------

    def start_sync(self, sync_id: UUID, mode: str, actor: str) -> None:
        if mode not in MODES:
            raise InvalidValue("mode", f"must be one of {', '.join(MODES)}")
        if self.sync_id is not None:
            raise SyncRunning(self.sync_id)
        requested = mode
        if mode == "incremental" and not self.incremental_possible:
            mode = "full"  # nothing to continue from yet
        self._sync_started(
            org_id=self.org_id, sync_id=sync_id, mode=mode, actor=actor, requested_mode=requested
        )

    @property
    def incremental_possible(self) -> bool:
        """A change feed's cursor to continue from, or a catalogue to compare a listing with."""
        if self.cursor is not None:
            return True
        return self.provider in LISTED_INCREMENTALLY and bool(self.catalogue)

    def unchanged(self, file_id: str, checksum: str, path: str, name: str) -> bool:
        """Whether the catalogue already has this file as it is (nothing to read again)."""
        return self.catalogue.get(file_id) == fingerprint(checksum, path, name)

    def classify(self, files: list[FileInfo]) -> tuple[list[FileInfo], int, int]:
        """The files that are new or changed, and how many of each (nothing is recorded)."""
        fresh: list[FileInfo] = []
        added = changed = 0
        for file in files:
            known = self.catalogue.get(file.file_id)
            if known is None:
                added += 1
            elif known != fingerprint(file.checksum, file.path, file.name):
                changed += 1
            else:
                continue
            fresh.append(file)
        return fresh, added, changed

    def record_files(self, files: list[FileInfo]) -> int:
        """Record the new and changed files of one batch; return how many were recorded."""
        sync_id = self._running()
        fresh, added, changed = self.classify(files)
        if fresh:
            self._files_discovered(
                org_id=self.org_id,
                sync_id=sync_id,
                files=[file_record(f) for f in fresh],
                added=added,
                changed=changed,
            )
        return len(fresh)

    def record_removed(self, file_ids: list[str]) -> None:
        sync_id = self._running()
        gone = [f for f in file_ids if f in self.catalogue]
        if gone:
            self._files_removed(org_id=self.org_id, sync_id=sync_id, file_ids=gone)

    def record_progress(self, processed: int, total: int | None) -> None:
        self._sync_progressed(
            org_id=self.org_id, sync_id=self._running(), processed=processed, total=total
        )

    def complete_sync(self, cursor: str | None) -> None:
        sync_id = self._running()
        counts = self.sync_counts
        self._sync_completed(
            org_id=self.org_id,
            sync_id=sync_id,
            added=counts["added"],
            changed=counts["changed"],
            removed=counts["removed"],
            total=len(self.catalogue),
            cursor=cursor,
        )

    def fail_sync(self, reason: str) -> None:
        self._sync_failed(
            org_id=self.org_id, sync_id=self._running(), reason=scrubbed(reason[:500])
        )

    def _running(self) -> UUID:
        if self.sync_id is None:
            raise RuleBroken("no sync is running for this folder")
        return self.sync_id

    # Events: they only set state -----------------------------------------------------------

    @event(SyncStarted)
    def _sync_started(
        self, org_id: UUID, sync_id: UUID, mode: str, actor: str, requested_mode: str
    ) -> None:
        self.sync_id = sync_id
        self.sync_mode = mode
        self.sync_counts = {"added": 0, "changed": 0, "removed": 0}

    @event(FilesDiscovered)
    def _files_discovered(
        self, org_id: UUID, sync_id: UUID, files: list[dict[str, Any]], added: int, changed: int
    ) -> None:
        for record in files:
            self.catalogue[record["file_id"]] = fingerprint(
                record["checksum"], record["path"], record["name"]
            )
        self.sync_counts["added"] += added
        self.sync_counts["changed"] += changed

    @event(FilesRemoved)
    def _files_removed(self, org_id: UUID, sync_id: UUID, file_ids: list[str]) -> None:
        for file_id in file_ids:
            self.catalogue.pop(file_id, None)
        self.sync_counts["removed"] += len(file_ids)

    @event(SyncProgressed)
    def _sync_progressed(
        self, org_id: UUID, sync_id: UUID, processed: int, total: int | None
    ) -> None:
        pass

    @event(SyncCompleted)
    def _sync_completed(
        self,
        org_id: UUID,
        sync_id: UUID,
        added: int,
        changed: int,
        removed: int,
        total: int,
        cursor: str | None,
    ) -> None:
        self.sync_id = None
        self.sync_mode = None
        self.cursor = cursor

    @event(SyncFailed)
    def _sync_failed(self, org_id: UUID, sync_id: UUID, reason: str) -> None:
        self.sync_id = None
        self.sync_mode = None
