"""A replay's reader: every partition read from its first offset to the end it had when the
reader opened, in order, and nothing after (those events are the live worker's to apply)."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaProducer, TopicPartition

from broker.admin import partitions_of
from broker.partition_reader import PartitionReader, Record
from broker.topics import ORGS
from tests.support.world import World

HEADERS = [("type", b"OrganizationCreated"), ("ce_specversion", b"1.0")]


async def partitions(world: World) -> list[TopicPartition]:
    """The topic's partitions, once the cluster describes them (a moment after its creation)."""
    deadline = time.monotonic() + 30
    while not (
        found := await partitions_of(world.settings.kafka_bootstrap, [world.topic(ORGS.topic)])
    ):
        assert time.monotonic() < deadline, "the topic never showed its partitions"
        await asyncio.sleep(0.1)
    return found


async def test_each_partition_is_read_in_order_up_to_its_end_at_opening(world: World) -> None:
    bootstrap = world.settings.kafka_bootstrap
    topic = world.topic(ORGS.topic)
    every = await partitions(world)
    first, second = TopicPartition(topic, 0), TopicPartition(topic, 1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for n in range(5):
            await producer.send_and_wait(topic, b"a%d" % n, key=b"k", partition=0, headers=HEADERS)
        for n in range(2):
            await producer.send_and_wait(topic, b"b%d" % n, key=b"k", partition=1, headers=HEADERS)
        read: dict[TopicPartition, list[Record]] = {}
        async with PartitionReader(bootstrap, every) as reader:
            assert reader.end[first] == 5 and reader.end[second] == 2
            assert all(reader.end[tp] == 0 for tp in every if tp not in (first, second))
            for n in range(5, 8):  # recorded while the replay runs
                await producer.send_and_wait(topic, b"a%d" % n, partition=0, headers=HEADERS)
            deadline = time.monotonic() + 30
            while not reader.finished:
                assert time.monotonic() < deadline, f"never finished: read {read}"
                for tp, records in (await reader.read(2)).items():  # small reads: several
                    assert len(records) <= 2
                    read.setdefault(tp, []).extend(records)
    finally:
        await producer.stop()
    assert read == {
        first: [Record(n, b"a%d" % n) for n in range(5)],
        second: [Record(n, b"b%d" % n) for n in range(2)],
    }


async def test_a_reader_of_empty_partitions_is_finished_at_once(world: World) -> None:
    every = await partitions(world)
    async with PartitionReader(world.settings.kafka_bootstrap, every) as reader:
        assert reader.finished
        assert set(reader.end) == set(every) and set(reader.end.values()) == {0}
