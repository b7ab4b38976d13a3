"""An album's whole state as plain data: for its snapshots, and for auditors.

The aggregate keeps its photos in a dict keyed by photo id, each photo with a set of the
guests who picked it and a tuple per guest rating: handy to decide on, impossible to store as
JSON. Here they become rows (and back), once, for both uses: a snapshot stores them so that
loading a 15,000-photo album at some version replays only the events after the snapshot, and
the audit's "state as of" shows every photo's picks per guest, ratings, comment count and
editing status.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from eventsourcing.domain import Snapshot

from domains.album import Album, Photo
from domains.personal_data import ClientKey, open_guest, open_text

HIDDEN = frozenset({"share_token_hash"})
"""Never shown to auditors: a share link's secret, even hashed, stays in the event store."""


def photo_rows(photos: dict[UUID, Photo]) -> list[dict[str, Any]]:
    """Every photo, by name, with its picks and ratings per guest."""
    return [
        {
            "photo_id": photo_id,
            "file_id": photo.file_id,
            "name": photo.name,
            "picked_by": sorted(photo.picked_by),
            "ratings": {
                guest: {"rating": rating, "color": color}
                for guest, (rating, color) in sorted(photo.ratings.items())
            },
            "comment_count": photo.comment_count,
            "proc_status": photo.proc_status,
        }
        for photo_id, photo in sorted(photos.items(), key=lambda item: (item[1].name, item[0]))
    ]


def photos_from_rows(rows: list[dict[str, Any]]) -> dict[UUID, Photo]:
    return {
        UUID(str(row["photo_id"])): Photo(
            file_id=row["file_id"],
            name=row["name"],
            picked_by=set(row["picked_by"]),
            ratings={g: (r["rating"], r["color"]) for g, r in row["ratings"].items()},
            comment_count=row["comment_count"],
            proc_status=row["proc_status"],
        )
        for row in rows
    }


def audit_state(album: Album) -> dict[str, Any]:
    """The album as it was, photos included, without its link's secret."""
    state = {k: v for k, v in vars(album).items() if not k.startswith("_") and k not in HIDDEN}
    state["photos"] = photo_rows(album.photos)
    state["selection_count"] = sum(1 for p in album.photos.values() if p.picked_by)
    state["client_forgotten"] = album.client_forgotten
    return state


def open_audit_state(state: dict[str, Any], key: ClientKey | None) -> dict[str, Any]:
    """``audit_state`` with the client's sealed data read with ``key``: the client's name and
    email, and each guest by name; without the key, as forgotten (``domains.personal_data``)."""
    opened = dict(state)
    client = state.get("client")
    if isinstance(client, dict):
        opened["client"] = {k: open_text(v, key) for k, v in client.items()}
    opened["photos"] = [
        {
            **photo,
            "picked_by": sorted(open_guest(g, key) for g in photo["picked_by"]),
            "ratings": {open_guest(g, key): r for g, r in photo["ratings"].items()},
        }
        for photo in state.get("photos", [])
    ]
    return opened


class AlbumSnapshot(Snapshot):
    """An album's state at one version, with its photos as rows (see the module's note)."""

    @classmethod
    def take(cls, aggregate: Any) -> AlbumSnapshot:
        taken = super().take(aggregate)
        return replace(taken, state={**taken.state, "photos": photo_rows(taken.state["photos"])})

    def mutate(self, _: None) -> Any:
        album: Any = Snapshot.mutate(replace(self, state={**self.state, "photos": []}), None)
        album.photos = photos_from_rows(self.state["photos"])
        return album
