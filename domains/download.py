"""A download of originals by a share link's client: one original, or a ZIP of several.

Recorded once per download, as the photographer wants to know who took the full-size files
and when; an aggregate of its own (one per download, created and never changed) rather than an
event on the album, so that serving bytes never contends with the album's own writes.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domains.errors import InvalidValue

KINDS = ("original", "zip")
SCOPES = ("photo", "selection", "all")


class Download(Aggregate):
    class Served(Aggregate.Created):
        org_id: UUID
        album_id: UUID
        kind: str
        scope: str
        photo_ids: list[str]
        guest: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """From version 2 the guest's name is sealed with the album client's key (see
            SealedText); version 1 named it in plain text, which stays readable."""

    @event(Served)
    def __init__(
        self,
        org_id: UUID,
        album_id: UUID,
        kind: str,
        scope: str,
        photo_ids: list[str],
        guest: str | None,
    ) -> None:
        self.org_id = org_id
        self.album_id = album_id
        self.kind = kind
        self.scope = scope
        self.photo_ids = photo_ids
        self.guest = guest

    @classmethod
    def serve(
        cls,
        org_id: UUID,
        album_id: UUID,
        kind: str,
        scope: str,
        photo_ids: list[UUID],
        guest: str | None,
    ) -> Download:
        if kind not in KINDS:
            raise InvalidValue("kind", f"must be one of {', '.join(KINDS)}")
        if scope not in SCOPES:
            raise InvalidValue("scope", f"must be one of {', '.join(SCOPES)}")
        return cls(
            org_id=org_id,
            album_id=album_id,
            kind=kind,
            scope=scope,
            photo_ids=[str(p) for p in photo_ids],
            guest=guest,
        )
