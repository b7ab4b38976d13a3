"""A studio's watermark: upload its PNG, set it, remove it.

The watermark is a setting of the Organization aggregate (``WatermarkSet``); an uploaded PNG is
kept by content (its SHA-256 names it) through the ``WatermarkImages`` port, so the event holds
the image's id and never its bytes. Which albums show it is each share link's own switch.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from commands.group_commit import Batch, GroupCommitter, Written
from commands.studio_roles import StudioRoles
from domains.errors import InvalidValue, NotFound
from domains.organization import Organization
from domains.policies import Action, require
from domains.watermark import Watermark


class WatermarkImages(Protocol):
    """Where uploaded watermark PNGs are kept (the rendition store, by content)."""

    async def keep(self, png: bytes) -> str:
        """The image's id (SHA-256 hex) once kept; InvalidValue("image") if it is no usable PNG."""
        ...

    async def exists(self, image_id: str) -> bool: ...


class StudioWatermarks:
    def __init__(
        self, committer: GroupCommitter, roles: StudioRoles, images: WatermarkImages
    ) -> None:
        self._committer = committer
        self._roles = roles
        self._images = images

    async def upload_image(self, org_id: UUID, png: bytes, actor_id: UUID) -> str:
        """Keep a PNG for the studio's watermark; a non-member learns nothing (NotFound)."""
        role = await self._roles.role_of(org_id, actor_id)
        if role is None:
            raise NotFound("Organization", org_id)
        require(role, Action.BRAND)
        return await self._images.keep(png)

    async def set(
        self,
        org_id: UUID,
        watermark: Watermark,
        actor_id: UUID,
        expected_version: int | None = None,
    ) -> Written:
        if watermark.image_id is not None and not await self._images.exists(watermark.image_id):
            raise InvalidValue("image_id", "no uploaded PNG has this id: upload it first")

        def decide(batch: Batch) -> Organization:
            org = batch.get(Organization, org_id, expected_version)
            org.set_watermark(watermark, actor_id)
            return org

        return await self._committer.execute(decide)

    async def remove(
        self, org_id: UUID, actor_id: UUID, expected_version: int | None = None
    ) -> Written:
        def decide(batch: Batch) -> Organization:
            org = batch.get(Organization, org_id, expected_version)
            org.remove_watermark(actor_id)
            return org

        return await self._committer.execute(decide)
