"""One Server-Sent Events connection: frames from a resume position, then live, with heartbeats.

Each message's ``id`` is a Kafka position (``broker.live_feed``), so ``Last-Event-ID`` resumes
on any API process with nothing lost or repeated; an idle stream gets a ``: keep-alive`` comment
carrying the current position, and a stream ends after its lifetime or an ending event.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from broker.live_feed import BadPosition, Delivery, LiveFeed, Subscription, View
from domains.personal_data import ClientKey
from queries.client_safe import share_envelope
from queries.problems import Problem

EVENT_STREAM = "text/event-stream"
LAST_EVENT_ID = "last-event-id"

SHARE_ENDS = frozenset(
    {"AlbumShareRevoked", "AlbumArchived", "AlbumShared", "AlbumClientForgotten"}
)
"""After these the link may no longer open the album: the stream checks, and ends if not."""
MEMBER_ENDS = frozenset({"OrganizationMemberRemoved"})
"""After this, if it names the stream's user, the stream ends: a new one reads the roles again."""
ENDING_TYPES = SHARE_ENDS | MEMBER_ENDS

Ends = Callable[[Delivery], Awaitable[bool]]
"""Whether the stream must end after sending this message (only asked for ENDING_TYPES)."""


def member_frame(delivery: Delivery) -> bytes:
    body = delivery.value
    if b"\n" in body or b"\r" in body:  # never from our relay; an SSE data line cannot hold it
        body = orjson.dumps(delivery.envelope)
    return b"event: " + delivery.type.encode() + b"\ndata: " + body + b"\n\n"


def share_frame(delivery: Delivery, key: ClientKey | None = None) -> bytes:
    """A share stream's frame, its sealed fields opened with the album client's ``key``."""
    shown = share_envelope(delivery.envelope, key)
    if shown is None:
        return b""
    return b"event: " + delivery.type.encode() + b"\ndata: " + orjson.dumps(shown) + b"\n\n"


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
        self._feed.want()  # a paused feed reads live again; it is ready once it does
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


def resume_position(
    request: Request, query_value: str | None, view: View, size: int
) -> list[int] | None:
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


def streaming(frames: AsyncIterator[bytes]) -> Response:
    return StreamingResponse(
        frames,
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"},
    )
