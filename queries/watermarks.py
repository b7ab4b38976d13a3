"""Studio watermark routes: upload a PNG, set the watermark, remove it, look at the PNG.

The watermark itself is read with the studio (``GET /api/orgs/{org_id}``, field
``watermark``). Which albums show it is each share link's own switch (``watermark`` in
``POST /api/albums/{album_id}/share``); client previews of those albums carry it, members'
previews never do.
"""

from __future__ import annotations

from typing import Literal, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from domains.policies import Action
from domains.watermark import POSITIONS, TEXT_MAX_LENGTH, Watermark
from infra.watermarking import PNG_MAX_BYTES
from queries.auth import Callers
from queries.bodies import read_body, read_bytes
from queries.conditional import expected_version
from queries.org_models import IF_MATCH, OrgWritten, written
from queries.ports import EventHistoryPort, WriteResult
from queries.problems import Problem, not_found
from queries.routing import Endpoint, json
from queries.text import Line

PNG = "image/png"


class WatermarkCommandsPort(Protocol):
    async def upload_image(self, org_id: UUID, png: bytes, actor_id: UUID) -> str: ...

    async def set(
        self,
        org_id: UUID,
        watermark: Watermark,
        actor_id: UUID,
        expected_version: int | None = None,
    ) -> WriteResult: ...

    async def remove(
        self, org_id: UUID, actor_id: UUID, expected_version: int | None = None
    ) -> WriteResult: ...


class WatermarkPngs(Protocol):
    async def read(self, checksum: str, kind: str) -> bytes | None: ...


class SetWatermark(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Line | None = Field(
        default=None, max_length=TEXT_MAX_LENGTH, description="For example “© Studio Lumière”."
    )
    image_id: str | None = Field(
        default=None,
        pattern="^[0-9a-f]{64}$",
        description="An uploaded PNG (POST /api/orgs/{org_id}/watermark/images), above the text.",
    )
    position: Literal[POSITIONS] = "bottom-right"  # type: ignore[valid-type]
    opacity: float = Field(default=0.5, ge=0.05, le=1)
    scale: float = Field(
        default=0.3, ge=0.05, le=1, description="The mark's width as a share of the photo's."
    )


class WatermarkView(BaseModel):
    text: str | None
    image_id: str | None
    position: str
    opacity: float
    scale: float


class UploadedImage(BaseModel):
    image_id: str = Field(description="Name it in PUT /api/orgs/{org_id}/watermark.")


def watermark_endpoints(
    commands: WatermarkCommandsPort,
    pngs: WatermarkPngs,
    png_kind: str,
    max_body: int,
    history: EventHistoryPort | None = None,
) -> list[Endpoint]:
    callers = Callers(history)

    async def upload_watermark_image(request: Request) -> Response:
        # who may, before what was sent: a stranger learns nothing, not even "not a PNG"
        principal, org_id = await callers.in_studio(request, Action.BRAND)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != PNG:
            raise Problem(415, "unsupported-media-type", "Not a PNG", "Send the image as image/png")
        png = await read_bytes(request, PNG_MAX_BYTES)
        image_id = await commands.upload_image(org_id, png, principal.user_id)
        return json({"image_id": image_id}, 201)

    async def set_watermark(request: Request) -> Response:
        principal, org_id = await callers.in_studio(request, Action.BRAND)
        body = await read_body(request, SetWatermark, max_body)
        watermark = Watermark.checked(
            body.text, body.image_id, body.position, body.opacity, body.scale
        )
        result = await commands.set(org_id, watermark, principal.user_id, expected_version(request))
        return json(written(result))

    async def remove_watermark(request: Request) -> Response:
        principal, org_id = await callers.in_studio(request, Action.BRAND)
        result = await commands.remove(org_id, principal.user_id, expected_version(request))
        return json(written(result))

    async def watermark_image(request: Request) -> Response:
        await callers.in_studio(request, Action.VIEW)
        image_id = str(request.path_params["image_id"])
        png = await pngs.read(image_id, png_kind) if len(image_id) == 64 else None
        if png is None:
            raise not_found(f"Watermark image {image_id[:64]!r} was not found")
        return Response(
            png,
            media_type=PNG,
            headers={"Cache-Control": "private, max-age=31536000, immutable"},
        )

    path = "/api/orgs/{org_id}/watermark"
    write_errors = (400, 401, 403, 404, 409, 413, 422)
    return [
        Endpoint(
            "POST",
            f"{path}/images",
            upload_watermark_image,
            "Upload a PNG for the studio's watermark (at most 2 MB, 4096 px an edge)",
            "orgs",
            status=201,
            response=UploadedImage,
            request_content={PNG: {"type": "string", "format": "binary"}},
            errors=(401, 403, 404, 413, 415, 422),
        ),
        Endpoint(
            "GET",
            f"{path}/images/{{image_id}}",
            watermark_image,
            "An uploaded watermark PNG",
            "orgs",
            content={PNG: {"type": "string", "format": "binary"}},
            errors=(401, 403, 404),
            path_params={"image_id": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
        ),
        Endpoint(
            "PUT",
            path,
            set_watermark,
            "Set the studio's watermark: text, an uploaded PNG or both; position, opacity, "
            "scale. Client previews of albums shared with watermark on carry it",
            "orgs",
            body=SetWatermark,
            response=OrgWritten,
            errors=write_errors,
            headers={"If-Match": IF_MATCH},
        ),
        Endpoint(
            "DELETE",
            path,
            remove_watermark,
            "Remove the studio's watermark (404 when there is none)",
            "orgs",
            response=OrgWritten,
            errors=write_errors,
            headers={"If-Match": IF_MATCH},
        ),
    ]
