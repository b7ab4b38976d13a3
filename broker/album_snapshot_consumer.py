"""Takes album snapshots in a worker, following the albums topic (``commands.album_snapshots``).

The API once took them after a write, in a thread of its own process: half a second of CPU
holding the API's GIL for a 15,000-photo album, which was the picks' p99 tail. Here a message
only says which album reached which version (read with msgspec from the envelope's
``aggregate_id`` and ``version``, the rest skipped); ``SnapshotSchedule`` decides which albums
are due, and the snapshot itself is taken from the event store in a thread of this process.

Nothing is parked: a snapshot that fails stays due, is logged (once per outage, see
``OutageLog``) and tried again after a pause; a missing snapshot only makes a replay longer.
Offsets are committed after each batch, so a restart resumes where it was, and learns each
album's latest snapshot from the store again on first sight; a duplicate is harmless. Nothing
here is urgent, so after a thin fetch the worker waits a second: at a few thousand picks a
second it then fetches and commits about once a second, not once per message or two.
"""

from __future__ import annotations

import asyncio
import logging
import time
from uuid import UUID

import msgspec
from aiokafka import AIOKafkaConsumer, TopicPartition
from eventsourcing.application import Application

from broker.consumers import Progress
from broker.consumers import lag as consumer_lag
from broker.failure_policy import OutageLog
from broker.topics import ALBUMS
from commands.album_snapshots import SnapshotSchedule, latest_snapshot_version, take_snapshot
from infra.outages import is_outage

log = logging.getLogger(__name__)


class _Reached(msgspec.Struct, gc=False):
    """The two fields of an album event's envelope this worker reads; msgspec skips the rest."""

    aggregate_id: UUID
    version: int


_DECODER = msgspec.json.Decoder(_Reached)
MAX_RECORDS = 5000
ALBUM_PAUSE_SECONDS = 60.0
"""How long an album whose snapshot failed (not for an outage) waits before the next try."""


class AlbumSnapshotter:
    def __init__(
        self,
        app: Application[UUID],
        bootstrap: str,
        *,
        namespace: str,
        topic_prefix: str,
        retry_seconds: float = 5.0,
        pause_seconds: float = 1.0,
    ) -> None:
        self._app = app
        self._bootstrap = bootstrap
        self._group = f"{namespace}.album-snapshots"
        self._topic = topic_prefix + ALBUMS.topic
        self._retry_seconds = retry_seconds
        self._pause_seconds = pause_seconds
        self._schedule = SnapshotSchedule()
        self._outage = OutageLog("album-snapshots")
        self._outage_until = 0.0
        self._paused: dict[UUID, float] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._reached: dict[TopicPartition, int] = {}
        self.progress = Progress()
        self.read = 0
        """Messages read since this worker started (a restart resumes from its commits)."""
        self.taken = 0
        self.failure: str | None = None

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            self._topic,
            bootstrap_servers=self._bootstrap,
            group_id=self._group,
            enable_auto_commit=False,
            # a first start snapshots the albums already large enough, once
            auto_offset_reset="earliest",
        )
        await consumer.start()
        self._consumer = consumer
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=1000, max_records=MAX_RECORDS)
                count = 0
                for tp, records in batches.items():
                    for record in records:
                        await self._note(record.value)
                    count += len(records)
                    if records:
                        self._reached[tp] = records[-1].offset + 1
                self.read += count
                await self._snapshot_due()
                if count:
                    await consumer.commit()
                self.progress.moved()
                if 0 < count < MAX_RECORDS:  # let the next fetch gather what comes meanwhile
                    await asyncio.sleep(self._pause_seconds)
        finally:
            self._consumer = None
            await consumer.stop()

    async def _note(self, payload: bytes | None) -> None:
        """One message: the album it names reached its version."""
        try:
            reached = _DECODER.decode(payload or b"")
        except msgspec.DecodeError:
            log.warning("album-snapshots: a message that is no album event was skipped")
            return
        album_id = reached.aggregate_id
        if not self._schedule.knows(album_id):
            try:
                latest = await asyncio.to_thread(latest_snapshot_version, self._app, album_id)
            except Exception as error:  # learnt on its next message
                self._failed(error, album_id, "not looked up in the snapshot store")
                return
            self._schedule.learn(album_id, latest)
            self._answered()
        self._schedule.reached(album_id, reached.version)

    async def _snapshot_due(self) -> None:
        """Snapshot every album that is due, one at a time, unless waiting after a failure.

        An outage pauses them all (the next would fail the same way); any other failure only
        its album, so one album that cannot be read never holds the others back.
        """
        now = time.monotonic()
        if now < self._outage_until:
            return
        for album_id, version in self._schedule.due():
            if self._paused.get(album_id, 0.0) > now:
                continue
            try:
                photos = await asyncio.to_thread(take_snapshot, self._app, album_id, version)
            except Exception as error:
                self._failed(error, album_id, "not snapshotted")
                if is_outage(error):
                    self._outage_until = time.monotonic() + self._retry_seconds
                    return
                self._paused[album_id] = time.monotonic() + ALBUM_PAUSE_SECONDS
                continue
            self._paused.pop(album_id, None)
            self._schedule.taken(album_id, version, photos)
            self.taken += 1
            self._answered()

    def _answered(self) -> None:
        """The store answered: any outage is over."""
        self._outage.up()
        self.failure = None

    def _failed(self, error: Exception, album_id: UUID, what: str) -> None:
        self.failure = f"{type(error).__name__}: {error}"
        if is_outage(error):
            self._outage.down(error)
        else:
            log.warning(
                "album-snapshots: album %s %s (%s); tried again later", album_id, what, self.failure
            )

    def lag(self) -> int:
        """Messages on the assigned partitions not read yet."""
        return consumer_lag(self._consumer, self._reached)

    def caught_up(self) -> bool:
        """Nothing it has read is waiting, and no album is due: what a benchmark waits for."""
        return self.lag() == 0 and not self._schedule.due()

    def stalled(self, after: float) -> bool:
        return self.progress.stalled(self.lag(), after)
