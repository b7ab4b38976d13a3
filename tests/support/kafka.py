"""Reading a whole topic back, as an integrator reading from the beginning would."""

from __future__ import annotations

import time
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer

from broker.admin import partitions_of


@dataclass(frozen=True)
class Message:
    partition: int
    offset: int
    key: bytes
    headers: dict[str, bytes]
    envelope: dict[str, object]
    """The JSON body; empty when the bytes are not JSON (a dead-letter topic may hold those)."""


async def read_topic(bootstrap: str, topic: str) -> list[Message]:
    """Every message on the topic up to its current end, partition by partition."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = await partitions_of(bootstrap, [topic])
        assert partitions, f"topic {topic} has no partitions"
        consumer.assign(partitions)
        end = await consumer.end_offsets(partitions)
        messages: list[Message] = []
        remaining = {tp for tp in partitions if end[tp] > 0}
        deadline = time.monotonic() + 60
        while remaining:
            assert time.monotonic() < deadline, f"{topic}: never reached the end of {remaining}"
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                for r in records:
                    if r.offset < end[tp]:
                        messages.append(
                            Message(
                                tp.partition,
                                r.offset,
                                r.key or b"",
                                dict(r.headers),
                                _json(r.value),
                            )
                        )
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
        return messages
    finally:
        await consumer.stop()


def _json(value: bytes | None) -> dict[str, object]:
    try:
        document = orjson.loads(value or b"{}")
    except orjson.JSONDecodeError:
        return {}
    return document if isinstance(document, dict) else {}
