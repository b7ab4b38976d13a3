"""Kafka read once per API process and fanned out to its Server-Sent Event streams.

One consumer per process, without a consumer group: it is assigned every partition of the
topics the streams show, starts at their end, and hands each message to the subscriptions that
want it (a studio's members, an album's share link) through bounded queues. Nothing here is
needed for correctness across processes: a stream's resume position is the Kafka position
itself, so any API process can resume any stream.

Positions. The feed keeps a vector with the next offset of every partition it reads. A stream
message's ``id`` is that vector (for the topics the stream reads) right after the message: each
partition is read in order, so every message dispatched before it lies below the vector and
every later one at or above it. Resuming seeks each partition to its entry: nothing is lost and
nothing repeats. A stream resuming from an older position than the feed's reads the gap with a
short-lived consumer of its own, then continues from its queue, dropping what it already sent;
a stream whose queue overflowed (a slow client) does the same from where it stood.

Unwatched, the feed stops reading. With no stream open for ``IDLE_AFTER`` seconds (and from the
start), its partitions are paused: following every topic for nobody was a fifth of an API
process's CPU under load (fetch requests and their answers, py-spy with ``--gil``). A stream
about to open asks for the feed (``want``), which then moves its vector to the topics' end
and reads again; the stream subscribes only once it does (``ready``), so it starts from now,
as before, and what it resumes from (Last-Event-ID) it reads with its catch-up consumer.

Failures follow the house policy for a reader that records nothing: Kafka down is waited out
(the consumer retries; streams keep heartbeating); a message that cannot be decoded is skipped
by the streams and logged once; parking it is the projections' job.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from broker.admin import partitions_of
from broker.failure_policy import Backoff, OutageLog

log = logging.getLogger(__name__)

POSITION_VERSION = "1"
IDLE_AFTER = 10.0
"""Seconds after the last stream closed before the feed stops reading."""


class BadPosition(ValueError):
    """A Last-Event-ID that is not one of ours."""


@dataclass(frozen=True)
class View:
    """The partitions one kind of stream reads, as indexes into the feed's vector."""

    name: str
    indexes: tuple[int, ...]

    def encode(self, vector: Sequence[int]) -> str:
        """The vector's entries for this view, as a short URL-safe text (varints, base64)."""
        out = bytearray()
        for index in self.indexes:
            value = vector[index]
            while value >= 0x80:
                out.append((value & 0x7F) | 0x80)
                value >>= 7
            out.append(value)
        return POSITION_VERSION + "." + base64.urlsafe_b64encode(bytes(out)).decode().rstrip("=")

    def decode(self, text: str, size: int) -> list[int]:
        """A full-length vector from an encoded position; partitions it does not name (added
        since) start at 0, so nothing of theirs is missed."""
        version, _, body = text.strip().partition(".")
        if version != POSITION_VERSION or not body or len(body) > 4096:
            raise BadPosition("not a stream position")
        try:
            raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise BadPosition("not a stream position") from None
        values: list[int] = []
        value = shift = 0
        for byte in raw:
            value |= (byte & 0x7F) << shift
            shift += 7
            if shift > 63:
                raise BadPosition("not a stream position")
            if not byte & 0x80:
                values.append(value)
                value = shift = 0
        if shift:
            raise BadPosition("not a stream position")
        vector = [0] * size
        for index, offset in zip(self.indexes, values, strict=False):
            vector[index] = offset
        return vector


@dataclass(eq=False)
class Delivery:
    """One Kafka message as the streams see it."""

    index: int
    """The partition's place in the feed's vector."""
    offset: int
    value: bytes
    envelope: dict[str, Any]
    after: tuple[int, ...] | None = None
    """The feed's vector right after this message (None when read by a catch-up consumer)."""
    cache: dict[str, Any] = field(default_factory=dict)
    """Per view or kind of stream: what was computed once for every stream (ids, frames)."""

    @property
    def type(self) -> str:
        return str(self.envelope["type"])


def parse(value: bytes | None) -> dict[str, Any] | None:
    """The envelope's fields the streams need, or None for a message that is not one."""
    if not value:
        return None
    try:
        envelope = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(envelope, dict):
        return None
    kind = envelope.get("type")
    if not isinstance(kind, str) or not kind or not kind.isprintable() or len(kind) > 200:
        return None
    if not isinstance(envelope.get("aggregate_id"), str):
        return None
    if not isinstance(envelope.get("data", {}), dict):
        return None
    return envelope


class Subscription:
    """One stream's interest and its bounded queue; the feed never waits for a slow stream:
    a full queue marks the subscription ``overflowed`` and the stream catches up by itself."""

    def __init__(
        self,
        view: View,
        orgs: frozenset[str] = frozenset(),
        album: str | None = None,
        maxsize: int = 1000,
    ) -> None:
        self.view = view
        self.orgs = orgs
        self.album = album
        self.queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize)
        self.overflowed = False
        self.start: tuple[int, ...] = ()
        """The feed's vector when messages began to arrive in the queue."""

    def offer(self, delivery: Delivery) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(delivery)
        except asyncio.QueueFull:
            self.overflowed = True


class LiveFeed:
    """The process's one reader of the stream topics; ``run`` until cancelled."""

    def __init__(
        self,
        bootstrap: str,
        topics: Sequence[str],
        album_topic: str,
        queue_size: int = 1000,
        backoff: Backoff | None = None,
        catch_ups: int = 16,
    ) -> None:
        self._bootstrap = bootstrap
        self.topics = tuple(topics)
        self.album_topic = album_topic
        self.queue_size = queue_size
        self._backoff = backoff or Backoff(0.5, 30.0)
        self.partitions: list[TopicPartition] = []
        self.vector: list[int] = []
        self.member_view = View("member", ())
        self.share_view = View("share", ())
        self.ready = asyncio.Event()
        """Reading live: a stream may subscribe (cleared while the feed is paused)."""
        self._wanted = asyncio.Event()
        self._unwatched_since = float("-inf")  # from the start: nobody watches yet
        self._to_end = False
        """Set while leaving a pause: a consumer replaced meanwhile starts at the topics' end,
        not at the vector from before the pause (a stream would be shown old events)."""
        self._index: dict[TopicPartition, int] = {}
        self._by_org: dict[str, set[Subscription]] = {}
        self._by_album: dict[str, set[Subscription]] = {}
        self._undecodable: OrderedDict[tuple[int, int], None] = OrderedDict()
        self.dispatched = 0
        self._catch_ups = asyncio.Semaphore(catch_ups)
        """Catch-up consumers at once: a burst of reconnecting streams (after a restart) takes
        turns rather than opening hundreds of Kafka connections; the waiting ones beat."""

    # Subscriptions ---------------------------------------------------------------------------

    def subscribe_members(self, orgs: frozenset[str]) -> Subscription:
        sub = Subscription(self.member_view, orgs=orgs, maxsize=self.queue_size)
        for org in orgs:
            self._by_org.setdefault(org, set()).add(sub)
        sub.start = tuple(self.vector)
        return sub

    def subscribe_album(self, album_id: str) -> Subscription:
        sub = Subscription(self.share_view, album=album_id, maxsize=self.queue_size)
        self._by_album.setdefault(album_id, set()).add(sub)
        sub.start = tuple(self.vector)
        return sub

    def restart(self, sub: Subscription) -> None:
        """After an overflow, once its queue is drained: messages flow again from now on."""
        sub.start = tuple(self.vector)
        sub.overflowed = False

    def unsubscribe(self, sub: Subscription) -> None:
        for key, index in [(org, self._by_org) for org in sub.orgs] + (
            [(sub.album, self._by_album)] if sub.album is not None else []
        ):
            subs = index.get(key)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del index[key]
        if not self.watched():
            self._unwatched_since = time.monotonic()

    def streams(self) -> int:
        return len({s for subs in (*self._by_org.values(), *self._by_album.values()) for s in subs})

    # Reading ---------------------------------------------------------------------------------

    async def run(self) -> None:
        """Read until cancelled; a failed consumer is replaced, continuing where it stood."""
        outage = OutageLog("live feed")
        attempt = 0
        while True:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
            )
            try:
                await consumer.start()
                await self._assign(consumer)
                outage.up()
                attempt = 0
                self.ready.set()
                while True:
                    if self._idle():
                        await self._pause_until_wanted(consumer)
                    batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
                    for tp, records in batches.items():
                        index = self._index[tp]
                        for record in records:
                            self.dispatch(index, record.offset, record.value)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                attempt += 1
                outage.down(error)
                await asyncio.sleep(self._backoff.delay(attempt))
            finally:
                await consumer.stop()

    def _idle(self) -> bool:
        return not self.watched() and time.monotonic() - self._unwatched_since > IDLE_AFTER

    async def _pause_until_wanted(self, consumer: AIOKafkaConsumer) -> None:
        """Stop reading until a stream wants the feed, then read on from the topics' end.

        Nobody was subscribed meanwhile, so skipping to the end loses no one a message; the
        vector moves forward only, as it does while reading.
        """
        self.ready.clear()
        consumer.pause(*self.partitions)
        try:
            await self._wanted.wait()  # set already if a stream asked while the feed read
            self._to_end = True
            await self._move_to_end(consumer)
        finally:
            consumer.resume(*self.partitions)
        self._wanted.clear()
        self._unwatched_since = time.monotonic()  # a stream that then never opens: idle later
        self.ready.set()

    async def _move_to_end(self, consumer: AIOKafkaConsumer) -> None:
        await consumer.seek_to_end(*self.partitions)
        ends = [await consumer.position(tp) for tp in self.partitions]
        self.vector[:] = [max(was, end) for was, end in zip(self.vector, ends, strict=True)]
        self._to_end = False

    async def _assign(self, consumer: AIOKafkaConsumer) -> None:
        if not self.partitions:
            partitions = await partitions_of(self._bootstrap, list(self.topics))
            missing = set(self.topics) - {tp.topic for tp in partitions}
            if missing:
                raise RuntimeError(f"topics {sorted(missing)} do not exist yet")
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            self.lay_out(partitions, [await consumer.position(tp) for tp in partitions])
            return
        consumer.assign(self.partitions)  # a replaced consumer goes on where the last stood
        if self._to_end:  # ... unless it failed leaving a pause
            await self._move_to_end(consumer)
            return
        for tp, offset in zip(self.partitions, self.vector, strict=True):
            consumer.seek(tp, offset)

    def lay_out(self, partitions: list[TopicPartition], vector: list[int]) -> None:
        """The partitions read, in the order of the vector, and where each stands."""
        self.partitions, self.vector = partitions, vector
        self._index = {tp: i for i, tp in enumerate(partitions)}
        self.member_view = View("member", tuple(range(len(partitions))))
        self.share_view = View(
            "share", tuple(i for i, tp in enumerate(partitions) if tp.topic == self.album_topic)
        )

    def watched(self) -> bool:
        """Whether any stream is open here (the feed then reads for it, not just its place)."""
        return bool(self._by_org or self._by_album)

    def want(self) -> None:
        """A stream is about to open: read live again if paused (``ready`` says when), and stay
        live while it subscribes."""
        self._unwatched_since = time.monotonic()
        self._wanted.set()

    def dispatch(self, index: int, offset: int, value: bytes | None) -> None:
        """Hand one message of partition ``index`` to the subscriptions that want it."""
        self.vector[index] = offset + 1
        self.dispatched += 1
        # Nobody to hand it to: its place in the vector is all it gives. (The feed still reads
        # without pausing: a stream opened now starts at the vector, so a feed that lagged
        # would show the new stream events from before it was opened.)
        if not self.watched():
            return
        envelope = parse(value)
        if envelope is None:
            self.undecodable(index, offset)
            return
        org = envelope.get("org_id")
        targets: set[Subscription] = set()
        if isinstance(org, str) and org in self._by_org:
            targets |= self._by_org[org]
        if self._by_album and self.partitions[index].topic == self.album_topic:
            for key in (envelope["aggregate_id"], envelope.get("data", {}).get("album_id")):
                if isinstance(key, str) and key in self._by_album:
                    targets |= self._by_album[key]
        if not targets:
            return
        delivery = Delivery(index, offset, value or b"", envelope, tuple(self.vector))
        for sub in targets:
            sub.offer(delivery)

    def undecodable(self, index: int, offset: int) -> None:
        """Say once per message that the streams skip it (its consumers park it)."""
        key = (index, offset)
        if key in self._undecodable:
            return
        self._undecodable[key] = None
        if len(self._undecodable) > 10_000:
            self._undecodable.popitem(last=False)
        tp = self.partitions[index]
        log.warning(
            "live streams skip the message at %s[%d]@%d: not an event envelope",
            tp.topic,
            tp.partition,
            offset,
        )

    async def replay(
        self,
        view: View,
        start: Sequence[int],
        stop: Sequence[int],
        wanted: Callable[[Delivery], bool],
    ) -> AsyncGenerator[Delivery | None, None]:
        """The view's messages from ``start`` up to (not including) ``stop``, read by a consumer
        of the caller's own; yields None about every second while there is nothing to give,
        so the caller can keep its connection alive through a Kafka outage."""
        while True:
            try:
                async with asyncio.timeout(1.0):
                    await self._catch_ups.acquire()
                break
            except TimeoutError:
                yield None
        try:
            async for found in self._replay(view, start, stop, wanted):
                yield found
        finally:
            self._catch_ups.release()

    async def _replay(
        self,
        view: View,
        start: Sequence[int],
        stop: Sequence[int],
        wanted: Callable[[Delivery], bool],
    ) -> AsyncGenerator[Delivery | None, None]:
        todo = {i: self.partitions[i] for i in view.indexes if start[i] < stop[i]}
        if not todo:
            return
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        started = False
        try:
            while not started:
                try:
                    await consumer.start()
                    started = True
                except Exception as error:  # Kafka away: wait, the stream keeps beating
                    log.info("stream catch-up waits for Kafka: %s", error)
                    yield None
                    await asyncio.sleep(1.0)
            index_of = {tp: i for i, tp in todo.items()}
            consumer.assign(list(todo.values()))
            for i, tp in todo.items():
                consumer.seek(tp, start[i])
            while todo:
                batches = await consumer.getmany(timeout_ms=1000, max_records=1000)
                if not batches:
                    yield None
                for tp, records in batches.items():
                    i = index_of[tp]
                    if i not in todo:
                        continue
                    for record in records:
                        if record.offset >= stop[i]:
                            break
                        envelope = parse(record.value)
                        if envelope is None:
                            self.undecodable(i, record.offset)
                            continue
                        delivery = Delivery(i, record.offset, record.value or b"", envelope)
                        if wanted(delivery):
                            yield delivery
                    if records and records[-1].offset + 1 >= stop[i]:
                        del todo[i]
                        consumer.pause(tp)
        finally:
            if started:
                await consumer.stop()
