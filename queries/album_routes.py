"""The photographer's album commands: body in, one use case, the album's new version out.

Each route only translates HTTP: the use case checks the caller's role in the album's studio
on the write side (a non-member gets a 404, a role that may not edit albums a 403), so a command
straight after the album's or the studio's create needs no consistency token. Every command
takes ``If-Match: <version>`` (409 concurrency-conflict when the album has moved on).
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from domains.album import NewAlbum
from domains.album_actors import Member
from domains.album_workflow import PROC_STATUSES
from queries.album_answers import COMMAND_HEADERS, answer, if_match
from queries.album_models import AlbumWritten, CreateAlbum, ProcStatus, Share, ShareWritten, Tag
from queries.auth import Callers
from queries.bodies import path_uuid, read_body
from queries.ports import AlbumCommandsPort
from queries.routing import Endpoint, Handler


def album_command_endpoints(
    albums: AlbumCommandsPort, callers: Callers, max_body: int
) -> list[Endpoint]:
    async def member(request: Request) -> Member:
        """The signed-in caller; its role is the use case's to check, on the write side."""
        return Member((await callers.principal(request, roles=False)).user_id)

    async def target(request: Request) -> tuple[UUID, Member]:
        album_id = path_uuid(request, "album_id")
        return album_id, await member(request)

    async def create(request: Request) -> Response:
        org_id = path_uuid(request, "org_id")
        actor = await member(request)
        body = await read_body(request, CreateAlbum, max_body)
        new = NewAlbum(
            body.title,
            body.client.name,
            body.client.email,
            body.folder_id,
            body.tags,
            body.selection_limit,
        )
        result = await albums.create(org_id, new, actor)
        return answer(result, 201, {"Location": f"/api/albums/{result.aggregate_id}"})

    async def album_sync(request: Request) -> Response:
        album_id, actor = await target(request)
        return answer(await albums.request_sync(album_id, actor, if_match(request)), 202)

    async def album_share(request: Request) -> Response:
        album_id, actor = await target(request)
        body = await read_body(request, Share, max_body)
        shared = await albums.share(
            album_id,
            body.expires_at,
            body.allow_download,
            actor,
            if_match(request),
            watermark=body.watermark,
        )
        return answer(shared.written, share_token=shared.share_token)

    async def album_revoke_share(request: Request) -> Response:
        album_id, actor = await target(request)
        return answer(await albums.revoke_share(album_id, actor, if_match(request)))

    async def album_tag(request: Request) -> Response:
        album_id, actor = await target(request)
        tag = (await read_body(request, Tag, max_body)).tag
        return answer(await albums.tag(album_id, tag, actor, if_match(request)))

    async def album_untag(request: Request) -> Response:
        album_id, actor = await target(request)
        tag = str(request.path_params["tag"])
        return answer(await albums.untag(album_id, tag, actor, if_match(request)))

    async def album_proc(request: Request) -> Response:
        album_id, actor = await target(request)
        photo_id = path_uuid(request, "photo_id")
        status = (await read_body(request, ProcStatus, max_body)).status
        return answer(
            await albums.set_editing_status(album_id, photo_id, status, actor, if_match(request))
        )

    async def album_start_editing(request: Request) -> Response:
        album_id, actor = await target(request)
        return answer(await albums.start_editing(album_id, actor, if_match(request)))

    async def album_deliver(request: Request) -> Response:
        album_id, actor = await target(request)
        return answer(await albums.deliver(album_id, actor, if_match(request)))

    async def album_archive(request: Request) -> Response:
        album_id, actor = await target(request)
        return answer(await albums.archive(album_id, actor, if_match(request)))

    async def album_reopen(request: Request) -> Response:
        album_id, actor = await target(request)
        return answer(await albums.reopen(album_id, actor, if_match(request)))

    async def album_forget_client(request: Request) -> Response:
        album_id, actor = await target(request)
        return answer(await albums.forget_client(album_id, actor, if_match(request)), 202)

    errors = (400, 401, 403, 404, 409, 413, 422)
    base = "/api/albums/{album_id}"

    def command(
        method: str,
        path: str,
        handler: Handler,
        summary: str,
        *,
        status: int = 200,
        body: type[BaseModel] | None = None,
        response: type[BaseModel] = AlbumWritten,
    ) -> Endpoint:
        return Endpoint(
            method,
            path,
            handler,
            summary,
            "albums",
            status=status,
            body=body,
            response=response,
            errors=errors,
            headers=COMMAND_HEADERS,
        )

    return [
        Endpoint(
            "POST",
            "/api/orgs/{org_id}/albums",
            create,
            "Create an album",
            "albums",
            status=201,
            body=CreateAlbum,
            response=AlbumWritten,
            errors=errors,
            response_headers={"Location": "The new album's URL"},
        ),
        command(
            "POST",
            f"{base}/sync",
            album_sync,
            "Ask Storage for a full sync of the album's folder",
            status=202,
        ),
        command("POST", f"{base}/tags", album_tag, "Add a tag", body=Tag),
        command(
            "DELETE",
            f"{base}/tags/{{tag:path}}",
            album_untag,
            "Remove a tag (it may contain '/')",
        ),
        command(
            "POST",
            f"{base}/share",
            album_share,
            "Share with the client: answers the share token (a new link replaces the old one)",
            body=Share,
            response=ShareWritten,
        ),
        command(
            "DELETE",
            f"{base}/share",
            album_revoke_share,
            "Revoke the current share link (it answers 404 afterwards)",
        ),
        command(
            "POST",
            f"{base}/photos/{{photo_id}}/proc",
            album_proc,
            f"Set a photo's editing status ({', '.join(PROC_STATUSES)})",
            body=ProcStatus,
        ),
        command("POST", f"{base}/start-editing", album_start_editing, "Workflow: start-editing"),
        command("POST", f"{base}/deliver", album_deliver, "Workflow: deliver"),
        command("POST", f"{base}/archive", album_archive, "Workflow: archive"),
        command("POST", f"{base}/reopen", album_reopen, "Workflow: reopen"),
        command(
            "POST",
            f"{base}/forget-client",
            album_forget_client,
            "Forget the client (owners and admins): the client's and guests' personal data "
            "(names, email, comments, notes) becomes unreadable everywhere, read as "
            "'[forgotten]'; the share link dies; the event stream and its hash chain stay whole",
            status=202,
        ),
    ]
