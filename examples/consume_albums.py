"""An integrator's consumer: start editing when a client submits their selection.

It reads ``photoflow.album`` with plain aiokafka, the way any Kafka client would, and shows what
the README's "Subscribing to events" asks of a subscriber:

- its own consumer group, starting from the beginning of the topic the first time (topics keep
  every event), then following new events; a restart goes on from its committed offsets;
- at least once: offsets are committed only after a batch was handled, so after a crash some
  events come again; each album's last handled ``version`` makes a repeat harmless (an
  aggregate's events share one key, so one partition, and arrive in ``version`` order);
- the envelope's ``type`` picks what to do, and unknown types are skipped: new ones may appear;
- ``schema`` says which version of ``data`` an event carries: fields are read tolerantly.

It keeps its state in memory to stay short; a real integration keeps the versions it handled
in the same store, and the same transaction, as what it does with the events.

    python examples/consume_albums.py --group my-editing-tool
    python examples/consume_albums.py --exit-when-idle 10   # stop after 10 s without events
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaConsumer

TOPIC = "photoflow.album"


class Editing:
    """What this integration knows of each album, built from its events."""

    def __init__(self) -> None:
        self.handled: dict[str, int] = {}  # album id -> the last version handled
        self.picks: dict[str, set[tuple[str, str]]] = defaultdict(set)  # (photo, guest)
        self.submitted = 0

    def handle(self, envelope: dict[str, Any], headers: dict[str, bytes]) -> None:
        album, version = str(envelope["aggregate_id"]), int(envelope["version"])
        if version <= self.handled.get(album, 0):
            return  # seen already: delivery is at least once
        self.handled[album] = version
        kind, data = envelope["type"], envelope.get("data", {})
        if kind == "AlbumPhotoSelected":
            self.picks[album].add((str(data["photo_id"]), str(data.get("guest", ""))))
        elif kind == "AlbumPhotoDeselected":
            self.picks[album].discard((str(data["photo_id"]), str(data.get("guest", ""))))
        elif kind == "AlbumSelectionSubmitted":
            self.submitted += 1
            photos = len({photo for photo, _ in self.picks[album]})
            print(
                f"SelectionSubmitted album={album} studio={envelope.get('org_id')} "
                f"by={envelope.get('actor')} version={version} photos={photos} "
                f"schema={envelope['schema']} ce_type={headers.get('ce_type', b'').decode()}"
                " -> start editing",
                flush=True,
            )


async def consume(bootstrap: str, topic: str, group: str, exit_when_idle: float | None) -> None:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",  # a new group starts from the first event
        enable_auto_commit=False,  # commit after handling: at least once
    )
    editing = Editing()
    read = 0
    await consumer.start()
    try:
        last = time.monotonic()
        while exit_when_idle is None or time.monotonic() - last < exit_when_idle:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    editing.handle(json.loads(record.value or b"{}"), dict(record.headers))
                    read += 1
            if batches:
                await consumer.commit()
                last = time.monotonic()
    finally:
        await consumer.stop()
    print(f"read {read} events, {editing.submitted} selections submitted", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--bootstrap", default=os.environ.get("PHOTOFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    )
    parser.add_argument(
        "--topic-prefix",
        default=os.environ.get("PHOTOFLOW_TOPIC_PREFIX", ""),
        help="the platform's PHOTOFLOW_TOPIC_PREFIX, if it has one",
    )
    parser.add_argument("--group", default="example-editing", help="your own consumer group")
    parser.add_argument("--exit-when-idle", type=float, default=None, metavar="SECONDS")
    args = parser.parse_args()
    asyncio.run(consume(args.bootstrap, args.topic_prefix + TOPIC, args.group, args.exit_when_idle))


if __name__ == "__main__":
    main()
