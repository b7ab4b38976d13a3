"""Live push: Server-Sent Events of a member's studios and of a share link's album.

``POST /api/stream-tokens`` trades the bearer token for a short-lived single-use stream token
(``queries.stream_tokens``); ``GET /api/stream?token=`` then streams every event of the caller's
studios as the Kafka envelope, and ``GET /api/share/{share_token}/stream`` the album's changes
with only the fields a client may read (``SHARE_FIELDS``). Each message's ``id`` is a Kafka
position (``broker.live_feed``): ``Last-Event-ID`` (or ``?last_event_id=``, for a new
EventSource after the token was spent) resumes there, on any API process, with nothing lost or
repeated. Idle streams get a ``: keep-alive`` comment every ``heartbeat`` seconds, carrying the
current position as an id-only message so a reconnect does not re-read what was filtered out.

A stream ends after ``max_seconds`` (a member removed from a studio stops seeing it at the
latest then, since a new stream token needs a valid sign-in), and a share stream ends once its
link no longer opens the album.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from broker.live_feed import Delivery, LiveFeed
from domains.album_workflow import ShareGone
from domains.errors import DomainError
from queries.album_answers import gone
from queries.auth import Callers, RevocationList, unauthenticated
from queries.bodies import read_query
from queries.event_stream import (
    EVENT_STREAM,
    MEMBER_ENDS,
    SHARE_ENDS,
    EventStream,
    member_frame,
    resume_position,
    share_frame,
    streaming,
)
from queries.ports import AlbumCommandsPort, EventHistoryPort
from queries.problems import not_found
from queries.routing import Endpoint, json
from queries.stream_tokens import StreamTokens


@dataclass(frozen=True)
class LiveParts:
    """What the stream routes need, built by the composition root."""

    feed: LiveFeed
    tokens: StreamTokens
    revocations: RevocationList
    heartbeat_seconds: float = 15.0
    max_seconds: float = 900.0


class StreamQuery(BaseModel):
    model_config = ConfigDict(extra="allow")
    token: str | None = Field(default=None, max_length=4096, description="A stream token.")
    last_event_id: str | None = Field(
        default=None,
        max_length=4096,
        description="Resume after this message id (as the Last-Event-ID header does).",
    )


class ShareStreamQuery(BaseModel):
    model_config = ConfigDict(extra="allow")
    last_event_id: str | None = Field(default=None, max_length=4096)


class StreamToken(BaseModel):
    stream_token: str
    expires_in: int = Field(description="Seconds left to open a stream with it (once).")


def stream_endpoints(
    live: LiveParts, albums: AlbumCommandsPort, history: EventHistoryPort | None = None
) -> list[Endpoint]:
    callers = Callers(history)
    feed = live.feed

    async def create_token(request: Request) -> Response:
        principal = await callers.principal(request, roles=False)
        token = await live.tokens.issue(principal.user_id, principal.session_id)
        return json({"stream_token": token, "expires_in": live.tokens.ttl}, 201)

    async def member_stream(request: Request) -> Response:
        query = read_query(request, StreamQuery)
        grant = await live.tokens.redeem(query.token or "")
        if grant is None:
            raise unauthenticated("The stream token is missing, spent, expired or unknown")
        if await live.revocations.is_revoked(grant.user_id, grant.session_id):
            raise unauthenticated("This session was revoked; sign in again")
        resume = resume_position(request, query.last_event_id, feed.member_view, len(feed.vector))
        roles = await request.app.state.authenticator.roles_of(grant.user_id)
        orgs = frozenset(str(org) for org in roles)

        def wanted(delivery: Delivery) -> bool:
            return delivery.envelope.get("org_id") in orgs

        async def removed(delivery: Delivery) -> bool:
            return delivery.type in MEMBER_ENDS and delivery.envelope["data"].get("user_id") == str(
                grant.user_id
            )

        stream = EventStream(
            feed,
            lambda: feed.subscribe_members(orgs),
            wanted,
            member_frame,
            resume,
            live.heartbeat_seconds,
            live.max_seconds,
            removed,
        )
        return streaming(stream.frames())

    async def share_stream(request: Request) -> Response:
        query = read_query(request, ShareStreamQuery)
        token = str(request.path_params["share_token"])
        try:
            album_id = str((await albums.open_share(token)).album_id)
        except ShareGone as error:
            raise gone(error) from None
        except DomainError:
            raise not_found("No album has this share link") from None
        resume = resume_position(request, query.last_event_id, feed.share_view, len(feed.vector))
        album_topic = feed.album_topic
        key = await albums.client_key(UUID(album_id))  # opens the guests' sealed names

        def wanted(delivery: Delivery) -> bool:
            if feed.partitions[delivery.index].topic != album_topic:
                return False
            envelope = delivery.envelope
            return album_id in (envelope.get("aggregate_id"), envelope["data"].get("album_id"))

        async def closed(delivery: Delivery) -> bool:
            if delivery.type not in SHARE_ENDS:
                return False
            try:
                await albums.open_share(token)
            except DomainError:
                return True
            return False

        stream = EventStream(
            feed,
            lambda: feed.subscribe_album(album_id),
            wanted,
            lambda delivery: share_frame(delivery, key),
            resume,
            live.heartbeat_seconds,
            live.max_seconds,
            closed,
        )
        return streaming(stream.frames())

    described = {EVENT_STREAM: {"type": "string", "description": "Server-Sent Events"}}
    return [
        Endpoint(
            "POST",
            "/api/stream-tokens",
            create_token,
            "A short-lived, single-use token to open the live event stream with",
            "streams",
            status=201,
            response=StreamToken,
            errors=(),
            operation_id="streams_create_token",
        ),
        Endpoint(
            "GET",
            "/api/stream",
            member_stream,
            "Server-Sent Events of the caller's studios (id: a resume position, event: the "
            "type, data: the Kafka envelope)",
            "streams",
            query=StreamQuery,
            authenticated=False,
            errors=(400, 401, 422),
            content=described,
            headers={"Last-Event-ID": {"schema": {"type": "string"}}},
        ),
        Endpoint(
            "GET",
            "/api/share/{share_token}/stream",
            share_stream,
            "Server-Sent Events of the shared album's changes, client-safe fields only",
            "streams",
            query=ShareStreamQuery,
            authenticated=False,
            errors=(400, 404, 410, 422),
            content=described,
            headers={"Last-Event-ID": {"schema": {"type": "string"}}},
        ),
    ]
