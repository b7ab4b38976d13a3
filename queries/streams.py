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

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from broker.live_feed import BadPosition, Delivery, LiveFeed, Subscription, View
from domains.album_workflow import ShareGone
from domains.errors import DomainError
from queries.album_answers import gone
from queries.auth import Callers, RevocationList, unauthenticated
from queries.bodies import read_query
from queries.ports import AlbumCommandsPort, EventHistoryPort
from queries.problems import Problem, not_found
from queries.routing import Endpoint, json
from queries.stream_tokens import StreamTokens

EVENT_STREAM = "text/event-stream"
LAST_EVENT_ID = "last-event-id"

SHARE_ENVELOPE = ("id", "type", "stream", "aggregate_id", "version", "occurred_at", "schema")
"""The envelope fields a share stream keeps: no org_id, no actor (a member's id)."""

SHARE_FIELDS: dict[str, tuple[str, ...] | None] = {
    "AlbumCreated": ("title", "selection_limit"),
    "AlbumPhotosAdded": ("photos",),
    "AlbumPhotosRemoved": ("photo_ids",),
    "AlbumSyncFinished": ("state", "photo_count"),
    "AlbumShared": ("expires_at", "allow_download"),
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
}
"""Per album event type, the ``data`` fields a client may read; None: not shown at all.

A type not listed (one added later) is shown with empty ``data``: the page learns that the
album changed and reads it again, and no field is shown before someone decided it may be.
"""

PHOTO_FIELDS = ("photo_id", "name")
SHARE_ENDS = frozenset({"AlbumShareRevoked", "AlbumArchived", "AlbumShared"})
"""After these the link may no longer open the album: the stream checks, and ends if not."""
MEMBER_ENDS = frozenset({"OrganizationMemberRemoved"})
"""After this, if it names the stream's user, the stream ends: a new one reads the roles again."""
ENDING_TYPES = SHARE_ENDS | MEMBER_ENDS

Ends = Callable[[Delivery], Awaitable[bool]]
"""Whether the stream must end after sending this message (only asked for ENDING_TYPES)."""


def share_envelope(envelope: dict[str, Any]) -> dict[str, Any] | None:
    """The client-safe copy of an album event, or None when a client sees nothing of it."""
    kind = str(envelope.get("type"))
    fields = SHARE_FIELDS.get(kind, ())
    if fields is None:
        return None
    data = envelope.get("data") or {}
    kept: dict[str, Any] = {k: data[k] for k in fields if k in data}
    if "photos" in kept:
        kept["photos"] = [
            {k: p.get(k) for k in PHOTO_FIELDS} for p in kept["photos"] if isinstance(p, dict)
        ]
    if "author" in kept:  # a guest is named as on the link; a member is "studio", never its id
        author = str(kept["author"])
        kept["author"] = author if author.startswith("client:") else "studio"
    return {k: envelope.get(k) for k in SHARE_ENVELOPE} | {"data": kept}


def _member_frame(delivery: Delivery) -> bytes:
    body = delivery.value
    if b"\n" in body or b"\r" in body:  # never from our relay; an SSE data line cannot hold it
        body = orjson.dumps(delivery.envelope)
    return b"event: " + delivery.type.encode() + b"\ndata: " + body + b"\n\n"


def _share_frame(delivery: Delivery) -> bytes:
    shown = share_envelope(delivery.envelope)
    if shown is None:
        return b""
    return b"event: " + delivery.type.encode() + b"\ndata: " + orjson.dumps(shown) + b"\n\n"


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


class EventStream:
    """One connection's frames: catch-up from its resume position if needed, then live."""

    def __init__(
        self,
        feed: LiveFeed,
        subscribe: Callable[[], Subscription],
        wanted: Callable[[Delivery], bool],
        frame: Callable[[Delivery], bytes],
        resume: list[int] | None,
        heartbeat: float,
        max_seconds: float,
        ends: Ends | None = None,
    ) -> None:
        self._feed = feed
        self._subscribe = subscribe
        self._wanted = wanted
        self._frame = frame
        self._resume = resume
        self._heartbeat = heartbeat
        self._deadline = time.monotonic() + max_seconds
        self._ends = ends
        self._beat_at = time.monotonic() + heartbeat
        self._sent_id: str | None = None

    async def frames(self) -> AsyncIterator[bytes]:
        while not self._feed.ready.is_set():  # Kafka not reached yet since start: wait, beat
            try:
                await asyncio.wait_for(self._feed.ready.wait(), self._heartbeat)
            except TimeoutError:
                yield b": keep-alive\n\n"
        sub = self._subscribe()
        view = sub.view
        try:
            yield b"retry: 2000\n\n"  # the first line: from here on, nothing is missed
            position: Sequence[int] = self._resume if self._resume is not None else sub.start
            ahead = self._resume is not None
            while time.monotonic() < self._deadline:
                if any(position[i] < sub.start[i] for i in view.indexes):
                    own = list(position)
                    replay = self._feed.replay(view, own, sub.start, self._wanted)
                    async with contextlib.aclosing(replay):  # its consumer stops with us
                        async for found in replay:
                            if found is None:
                                if self._beat_due():
                                    yield b": keep-alive\n\n"
                                continue
                            own[found.index] = found.offset + 1
                            frame = self._frame(found)
                            if frame:
                                yield self._with_id(view.encode(own), frame)
                                if self._ends is not None and await self._ends(found):
                                    return
                    position = own
                merged = list(position)
                for i in view.indexes:
                    merged[i] = max(merged[i], sub.start[i])
                position = merged
                # Live: from the queue, dropping what the catch-up (or the client) already has.
                while time.monotonic() < self._deadline:
                    if sub.overflowed and sub.queue.empty():
                        self._feed.restart(sub)  # a slow client: read the gap on our own
                        break
                    try:
                        async with asyncio.timeout(self._until_beat()):  # no task, unlike wait_for
                            first = await sub.queue.get()
                    except TimeoutError:
                        beat = b": keep-alive\n"
                        now = self._feed.vector
                        if ahead and all(position[i] <= now[i] for i in view.indexes):
                            ahead = False
                        if not ahead and not sub.overflowed and sub.queue.empty():
                            position = tuple(now)
                            encoded = view.encode(position)
                            if encoded != self._sent_id:
                                self._sent_id = encoded
                                beat += b"id: " + encoded.encode() + b"\n"
                        self._beat_at = time.monotonic() + self._heartbeat
                        yield beat + b"\n"
                        continue
                    # Whatever else is queued goes out in the same write.
                    batch = [first]
                    while not sub.queue.empty() and len(batch) < 256:
                        batch.append(sub.queue.get_nowait())
                    out: list[bytes] = []
                    ending: Delivery | None = None
                    for delivery in batch:
                        if delivery.offset < position[delivery.index]:
                            continue
                        assert delivery.after is not None
                        if ahead:
                            merged = list(position)
                            for i in view.indexes:
                                merged[i] = max(merged[i], delivery.after[i])
                            merged[delivery.index] = delivery.offset + 1
                            ahead = any(merged[i] > delivery.after[i] for i in view.indexes)
                            position = merged
                            encoded = view.encode(merged)
                        else:
                            position = delivery.after
                            cached_id = delivery.cache.get(view.name)
                            if cached_id is None:
                                cached_id = delivery.cache[view.name] = view.encode(position)
                            encoded = str(cached_id)
                        cached = delivery.cache.get(view.name + ":frame")
                        if cached is None:
                            cached = delivery.cache[view.name + ":frame"] = self._frame(delivery)
                        if cached:
                            out.append(self._with_id(encoded, bytes(cached)))
                            if delivery.type in ENDING_TYPES:
                                ending = delivery
                    if out:
                        yield b"".join(out)
                    if ending is not None and self._ends is not None and await self._ends(ending):
                        return
        finally:
            self._feed.unsubscribe(sub)

    def _with_id(self, encoded: str, frame: bytes) -> bytes:
        self._sent_id = encoded
        self._beat_at = time.monotonic() + self._heartbeat
        return b"id: " + encoded.encode() + b"\n" + frame

    def _beat_due(self) -> bool:
        if time.monotonic() >= self._beat_at:
            self._beat_at = time.monotonic() + self._heartbeat
            return True
        return False

    def _until_beat(self) -> float:
        return max(0.0, min(self._beat_at, self._deadline) - time.monotonic())


def _resume(request: Request, query_value: str | None, view: View, size: int) -> list[int] | None:
    text = request.headers.get(LAST_EVENT_ID) or query_value
    if not text:
        return None
    try:
        return view.decode(text, size)
    except BadPosition:
        raise Problem(
            400,
            "bad-last-event-id",
            "Unknown stream position",
            "Last-Event-ID is not a message id of this stream; open the stream without it",
        ) from None


def _streaming(frames: AsyncIterator[bytes]) -> Response:
    return StreamingResponse(
        frames,
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"},
    )


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
        resume = _resume(request, query.last_event_id, feed.member_view, len(feed.vector))
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
            _member_frame,
            resume,
            live.heartbeat_seconds,
            live.max_seconds,
            removed,
        )
        return _streaming(stream.frames())

    async def share_stream(request: Request) -> Response:
        query = read_query(request, ShareStreamQuery)
        token = str(request.path_params["share_token"])
        try:
            album_id = str((await albums.open_share(token)).album_id)
        except ShareGone as error:
            raise gone(error) from None
        except DomainError:
            raise not_found("No album has this share link") from None
        resume = _resume(request, query.last_event_id, feed.share_view, len(feed.vector))
        album_topic = feed.album_topic

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
            _share_frame,
            resume,
            live.heartbeat_seconds,
            live.max_seconds,
            closed,
        )
        return _streaming(stream.frames())

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
