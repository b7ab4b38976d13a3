"""A projection worker behind by a batch or two applies what is queued in one transaction:
the batches joined must keep every partition's records, and their envelopes, in order."""

from __future__ import annotations

import asyncio
from uuid import uuid4

from aiokafka import ConsumerRecord, TopicPartition

from projections.applier import Decoded, Records, contiguous, joined
from projections.worker import _queued
from tests.support.events import event

ORGS_0 = TopicPartition("organization.org", 0)
ORGS_1 = TopicPartition("organization.org", 1)


def record(tp: TopicPartition, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, b"k", b"v", None, 1, 1, ())


def fetched(offsets: dict[TopicPartition, range], decoded: bool = True) -> tuple[Records, Decoded]:
    records = {tp: [record(tp, o) for o in span] for tp, span in offsets.items()}
    envelopes: Decoded = {
        tp: [event(uuid4(), o + 1, "organization.created", {}) if decoded else None for o in span]
        for tp, span in offsets.items()
    }
    return records, envelopes


def test_one_batch_is_itself() -> None:
    batch = fetched({ORGS_0: range(3)})
    assert joined([batch]) is batch


def test_batches_join_partition_by_partition_in_offset_order() -> None:
    first = fetched({ORGS_0: range(0, 3), ORGS_1: range(0, 2)})
    second = fetched({ORGS_1: range(2, 4)})
    third = fetched({ORGS_0: range(3, 5)})

    records, decoded = joined([first, second, third])

    assert {tp: [r.offset for r in rs] for tp, rs in records.items()} == {
        ORGS_0: [0, 1, 2, 3, 4],
        ORGS_1: [0, 1, 2, 3],
    }
    expected_0 = [*first[1][ORGS_0], *third[1][ORGS_0]]
    expected_1 = [*first[1][ORGS_1], *second[1][ORGS_1]]
    assert decoded[ORGS_0] == expected_0
    assert decoded[ORGS_1] == expected_1


def test_a_batch_not_decoded_ahead_keeps_its_place_as_none() -> None:
    first = fetched({ORGS_0: range(0, 2)})
    second: tuple[Records, Decoded] = (fetched({ORGS_0: range(2, 4)})[0], {})

    records, decoded = joined([first, second])

    assert len(records[ORGS_0]) == len(decoded[ORGS_0]) == 4
    assert decoded[ORGS_0][2:] == [None, None]
    assert decoded[ORGS_0][:2] == first[1][ORGS_0]


async def test_queued_takes_everything_waiting_but_leaves_the_fetchers_end_mark() -> None:
    queue: asyncio.Queue[str | None] = asyncio.Queue(5)
    for item in ("a", "b", None):
        queue.put_nowait(item)

    assert _queued(queue) == ["a", "b"]
    assert queue.get_nowait() is None
    assert _queued(queue) == []


def test_batches_join_only_while_each_partition_continues_where_it_stopped() -> None:
    first = fetched({ORGS_0: range(0, 3), ORGS_1: range(0, 2)})
    follows = fetched({ORGS_0: range(3, 5)})
    other_partition = fetched({ORGS_1: range(2, 3)})
    sought_elsewhere = fetched({ORGS_0: range(9, 12)})  # after a rebalance's seek

    assert contiguous([first, follows, other_partition]) == 3
    assert contiguous([first, follows, sought_elsewhere, other_partition]) == 2
    assert contiguous([first, fetched({ORGS_1: range(0, 2)})]) == 1  # the same records again
    assert contiguous([sought_elsewhere]) == 1
