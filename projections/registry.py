"""Every projection the platform runs, by name."""

from __future__ import annotations

from projections.album_activity import AlbumActivityProjection
from projections.albums import AlbumsProjection
from projections.base import Projection
from projections.files import FilesProjection
from projections.folders import FoldersProjection
from projections.memberships import MembershipsProjection
from projections.orgs import OrgsProjection
from projections.providers import ProvidersProjection
from projections.renditions import RenditionsProjection
from projections.storage_audit import StorageAuditProjection
from projections.users import UsersProjection


def all_projections() -> dict[str, Projection]:
    return {
        p.name: p
        for p in (
            OrgsProjection(),
            MembershipsProjection(),
            UsersProjection(),
            ProvidersProjection(),
            FoldersProjection(),
            FilesProjection(),
            StorageAuditProjection(),
            AlbumsProjection(),
            AlbumActivityProjection(),
            RenditionsProjection(),
        )
    }


def subscribers_of(topic: str) -> list[str]:
    """The projections that read a topic: a consistency token waits for all of them."""
    return [p.name for p in all_projections().values() if topic in p.topics]
