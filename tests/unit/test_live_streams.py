"""Live streams without Kafka: the feed's log kept in memory, the frames a browser would get.

``MemoryFeed`` is the real ``LiveFeed`` with its two Kafka readers replaced: messages are
dispatched by hand, and a catch-up (still taking its turn) replays the in-memory log.
Everything else (positions, fan-out, overflow, resume) is the production code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any
from uuid import uuid4

import orjson
import pytest
from aiokafka import TopicPartition

from broker.live_feed import BadPosition, Delivery, LiveFeed, View, parse
from queries.client_safe import share_envelope
from queries.event_stream import EventStream, member_frame, share_frame

pytestmark = pytest.mark.unit

ALBUMS = "photoflow.album"
FOLDERS = "storage.folder"


class MemoryFeed(LiveFeed):
    def __init__(self, queue_size: int = 1000) -> None:
        super().__init__("unused:9092", [FOLDERS, ALBUMS], ALBUMS, queue_size)
        partitions = [TopicPartition(t, p) for t in (FOLDERS, ALBUMS) for p in range(3)]
        self.lay_out(partitions, [0] * len(partitions))
        self.log: dict[int, list[bytes]] = {i: [] for i in range(len(partitions))}
        self.ready.set()

    def publish(self, topic: str, envelope: dict[str, Any] | bytes) -> None:
        index = next(
            i
            for i, tp in enumerate(self.partitions)
            if tp.topic == topic
            and (isinstance(envelope, bytes) or tp.partition == hash(envelope["aggregate_id"]) % 3)
        )
        value = envelope if isinstance(envelope, bytes) else orjson.dumps(envelope)
        self.log[index].append(value)
        self.dispatch(index, len(self.log[index]) - 1, value)

    async def _replay(
        self,
        view: View,
        start: Sequence[int],
        stop: Sequence[int],
        wanted: Callable[[Delivery], bool],
    ) -> AsyncIterator[Delivery | None]:
        for i in view.indexes:
            for offset in range(start[i], stop[i]):
                envelope = parse(self.log[i][offset])
                if envelope is None:
                    self.undecodable(i, offset)
                    continue
                delivery = Delivery(i, offset, self.log[i][offset], envelope)
                if wanted(delivery):
                    yield delivery


def event(
    org: str, aggregate: str, kind: str = "FolderSyncProgressed", **data: Any
) -> dict[str, Any]:
    return {
        "id": str(uuid4()),
        "type": kind,
        "stream": "folders",
        "aggregate_id": aggregate,
        "version": 1,
        "org_id": org,
        "occurred_at": "2026-12-01T00:00:00+00:00",
        "schema": 1,
        "actor": "user-1",
        "data": data,
    }


def member_stream(feed: MemoryFeed, org: str, resume: list[int] | None = None) -> EventStream:
    orgs = frozenset({org})
    return EventStream(
        feed,
        lambda: feed.subscribe_members(orgs),
        lambda d: d.envelope.get("org_id") in orgs,
        member_frame,
        resume,
        heartbeat=0.05,
        max_seconds=60,
    )


async def messages(frames: AsyncIterator[bytes], count: int) -> list[dict[str, Any]]:
    """The next ``count`` dispatched messages: id, event and decoded data."""
    found: list[dict[str, Any]] = []
    while len(found) < count:
        chunk = (await asyncio.wait_for(anext(frames), 2)).decode()
        for block in chunk.split("\n\n"):  # one write may carry several messages
            fields: dict[str, str] = {}
            for line in block.split("\n"):
                if line and not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    fields[name] = value
            if "data" in fields:
                found.append({**fields, "data": orjson.loads(fields["data"])})
    return found


async def opened(stream: EventStream) -> AsyncIterator[bytes]:
    frames = stream.frames()
    assert (await anext(frames)).startswith(b"retry:")
    return frames


def test_a_position_is_short_and_reads_back() -> None:
    view = View("member", (0, 1, 2, 5))
    vector = [3, 0, 1_000_000, 7, 8, 2**40]
    text = view.encode(vector)
    assert len(text) < 30 and text.isascii()
    assert view.decode(text, 6) == [3, 0, 1_000_000, 0, 0, 2**40]
    for bad in ("", "2.AAAA", "1.!!!", "1." + "_" * 20, "1.gA"):
        with pytest.raises(BadPosition):
            view.decode(bad, 6)


def test_a_share_copy_keeps_only_what_a_client_may_read() -> None:
    created = event(
        "org-1",
        "album-1",
        "AlbumCreated",
        title="Anna",
        client={"name": "Anna", "email": "anna@example.com"},
        folder_id="folder-1",
        tags=["vip"],
    )
    shown = share_envelope(created)
    assert shown is not None
    assert shown["data"] == {"title": "Anna"}
    assert "org_id" not in shown and "actor" not in shown
    comment = event("o", "a", "AlbumCommentAdded", text="Hi", author="user-uuid", photo_id="p")
    assert share_envelope(comment)["data"]["author"] == "studio"  # type: ignore[index]
    assert share_envelope(event("o", "a", "AlbumTagged", tags=["x"])) is None
    assert share_envelope(event("o", "a", "AlbumSomethingNew", secret="s"))["data"] == {}  # type: ignore[index]


async def test_a_member_sees_its_studio_in_order_and_resumes_without_loss_or_repeat() -> None:
    feed = MemoryFeed()
    frames = await opened(member_stream(feed, "org-a"))
    for n in range(6):
        feed.publish(FOLDERS, event("org-a", f"folder-{n % 2}", processed=n))
        feed.publish(FOLDERS, event("org-b", "folder-x", processed=n))  # another studio
    first = (await messages(frames, 3))[:3]  # the connection drops after the third
    await frames.aclose()
    assert [m["data"]["data"]["processed"] for m in first] == [0, 1, 2]

    for n in range(6, 9):  # while the client is away
        feed.publish(FOLDERS, event("org-a", f"folder-{n % 2}", processed=n))
    resume = feed.member_view.decode(first[-1]["id"], len(feed.vector))
    rest = await messages(await opened(member_stream(feed, "org-a", resume)), 6)
    assert sorted(m["data"]["data"]["processed"] for m in rest) == [3, 4, 5, 6, 7, 8]
    assert {m["data"]["org_id"] for m in rest} == {"org-a"}


async def test_a_slow_stream_overflows_its_queue_and_catches_up_on_its_own() -> None:
    feed = MemoryFeed(queue_size=2)
    frames = await opened(member_stream(feed, "org-a"))
    for n in range(10):
        feed.publish(FOLDERS, event("org-a", "folder-1", processed=n))
    got = await messages(frames, 10)
    assert len(got) == 10
    assert [m["data"]["data"]["processed"] for m in got] == list(range(10))
    feed.publish(FOLDERS, event("org-a", "folder-1", processed=10))
    assert [m["data"]["data"]["processed"] for m in await messages(frames, 1)] == [10]


async def test_an_undecodable_message_is_skipped_and_the_next_one_arrives() -> None:
    feed = MemoryFeed()
    frames = await opened(member_stream(feed, "org-a"))
    feed.publish(FOLDERS, b"not json")
    feed.publish(FOLDERS, event("org-a", "folder-1", processed=1))
    [message] = await messages(frames, 1)
    assert message["event"] == "FolderSyncProgressed"


async def test_an_idle_stream_beats_with_its_position() -> None:
    feed = MemoryFeed()
    frames = await opened(member_stream(feed, "org-a"))
    feed.publish(FOLDERS, event("org-b", "folder-x"))  # not ours: the position still moves
    beat = (await asyncio.wait_for(anext(frames), 1)).decode()
    assert beat.startswith(": keep-alive\n") and "id: " in beat
    position = beat.split("id: ")[1].strip()
    assert sum(feed.member_view.decode(position, len(feed.vector))) == 1


async def test_a_share_stream_gets_its_album_only_with_client_fields() -> None:
    feed = MemoryFeed()
    stream = EventStream(
        feed,
        lambda: feed.subscribe_album("album-1"),
        lambda d: d.envelope["aggregate_id"] == "album-1",
        share_frame,
        None,
        heartbeat=5,
        max_seconds=60,
    )
    frames = await opened(stream)
    feed.publish(ALBUMS, event("org-a", "album-2", "AlbumPhotoSelected", photo_id="p", guest="g"))
    feed.publish(ALBUMS, event("org-a", "album-1", "AlbumTagged", tags=["x"]))
    feed.publish(ALBUMS, event("org-a", "album-1", "AlbumPhotoSelected", photo_id="p", guest="g"))
    [message] = await messages(frames, 1)
    assert message["data"]["aggregate_id"] == "album-1"
    assert message["data"]["data"] == {"photo_id": "p", "guest": "g"}
    assert "org_id" not in message["data"]
