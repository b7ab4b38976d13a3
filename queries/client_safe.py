"""What a client may read of an album event: the share stream's filter.

A share link's page sees its album change live, but never what is the studio's own business:
no org id, no actor (a member's id), no client email, no tags. Each album event type names the
``data`` fields a client may read; a type nobody listed yet is shown with empty ``data``.
Sealed fields (guests' names, comments) are opened with the album client's key, which the
stream fetched when it opened (``domains.personal_data``).
"""

from __future__ import annotations

from typing import Any

from domains.personal_data import ClientKey, open_data

SHARE_ENVELOPE = ("id", "type", "stream", "aggregate_id", "version", "occurred_at", "schema")
"""The envelope fields a share stream keeps: no org_id, no actor (a member's id)."""

SHARE_FIELDS: dict[str, tuple[str, ...] | None] = {
    "AlbumCreated": ("title", "selection_limit"),
    "AlbumPhotosAdded": ("photos",),
    "AlbumPhotosRemoved": ("photo_ids",),
    "AlbumSyncFinished": ("state", "photo_count"),
    "AlbumShared": ("expires_at", "allow_download", "watermark"),
    "AlbumShareRevoked": (),
    "AlbumPhotoSelected": ("photo_id", "guest"),
    "AlbumPhotoDeselected": ("photo_id", "guest"),
    "AlbumPhotoRated": ("photo_id", "guest", "rating", "color"),
    "AlbumCommentAdded": ("photo_id", "comment_id", "text", "author"),
    "AlbumSelectionSubmitted": (),
    "AlbumEditingStarted": (),
    "AlbumProcStatusSet": ("photo_id", "status"),
    "AlbumDelivered": (),
    "AlbumChangesRequested": ("note",),
    "AlbumApproved": (),
    "AlbumArchived": (),
    "AlbumReopened": ("state",),
    # The studio's own business: never on a client's stream.
    "AlbumSyncRequested": None,
    "AlbumTagged": None,
    "AlbumUntagged": None,
    "AlbumClientForgotten": (),
}
"""Per album event type, the ``data`` fields a client may read; None: not shown at all.

A type not listed (one added later) is shown with empty ``data``: the page learns that the
album changed and reads it again, and no field is shown before someone decided it may be.
"""

PHOTO_FIELDS = ("photo_id", "name")


def share_envelope(envelope: dict[str, Any], key: ClientKey | None = None) -> dict[str, Any] | None:
    """The client-safe copy of an album event, or None when a client sees nothing of it; its
    sealed fields opened with ``key`` (shown forgotten without it)."""
    kind = str(envelope.get("type"))
    fields = SHARE_FIELDS.get(kind, ())
    if fields is None:
        return None
    data = open_data(kind, envelope.get("data") or {}, key)
    kept: dict[str, Any] = {k: data[k] for k in fields if k in data}
    if "photos" in kept:
        kept["photos"] = [
            {k: p.get(k) for k in PHOTO_FIELDS} for p in kept["photos"] if isinstance(p, dict)
        ]
    if "author" in kept:  # a guest is named as on the link; a member is "studio", never its id
        author = str(kept["author"])
        kept["author"] = author if author.startswith("client:") else "studio"
    return {k: envelope.get(k) for k in SHARE_ENVELOPE} | {"data": kept}
