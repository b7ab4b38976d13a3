"""A rebuild shared among processes, holding few rows in memory, ends with the live tables.

The orgs projection folds in memory (``projections.folded``): its rebuild writes rows only when
it holds ``fold_rows`` of them, loading back the ones it folds onto again. Forcing a tiny bound
makes every path run: rows copied in fresh, rows loaded and merged again, versions copied in
and merged, and the offsets of every partition stored for the live workers that come after.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from broker.admin import partitions_of
from broker.topics import FOLDERS, ORGS
from infra.bootstrap import Platform
from projections.base import Projection
from projections.files import FilesProjection
from projections.orgs import OrgsProjection
from projections.rebuild import RebuildReport, rebuild, shares
from projections.replay_process import STOP_SECONDS, ChildReplay, ReplayFailed, start_child
from tests.support.events import a_file, event
from tests.support.relaying import publish_everything
from tests.support.world import World
from tests.support.writes import create_and_rename, final_version


async def fetch(world: World, sql: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(world.settings.database_url)
    try:
        return [dict(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def in_two_processes(
    world: World, platform: Platform, projection: Projection, batch_size: int
) -> RebuildReport:
    return await rebuild(
        projection,
        platform.pool,
        world.settings.kafka_bootstrap,
        batch_size,
        topic_prefix=world.settings.topic_prefix,
        progress=False,
        database_url=world.settings.database_url,
        processes=2,
    )


def test_shares_go_by_partition_number_so_an_aggregate_stays_in_one_process() -> None:
    partitions = [TopicPartition(t, p) for t in ("a", "b") for p in range(5)]
    dealt = shares(partitions, 2)
    assert [sorted({tp.partition for tp in share}) for share in dealt] == [[0, 2, 4], [1, 3]]
    assert sorted(tp for share in dealt for tp in share) == sorted(partitions)
    assert len(shares(partitions[:1], 8)) == 1  # never more processes than partition numbers


async def test_two_processes_holding_few_rows_rebuild_every_org(
    world: World, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = await create_and_rename(platform.apps["orgs"], orgs=300, renames=2)
    await publish_everything(platform)
    monkeypatch.setattr(OrgsProjection, "fold_rows", 40)  # the child is forked: it sees it too

    report = await in_two_processes(world, platform, OrgsProjection(), 50)

    assert report.processes == 2
    assert report.events == report.applied == sum(final_version(n) for n in history.values())
    orgs = await fetch(world, "SELECT org_id, name, version FROM read.orgs")
    assert {r["org_id"]: (r["name"], r["version"]) for r in orgs} == {
        org_id: (names[-1], final_version(names)) for org_id, names in history.items()
    }
    versions = await fetch(
        world,
        "SELECT aggregate_id, version FROM read.projection_versions WHERE projection = 'orgs'",
    )
    assert {r["aggregate_id"]: r["version"] for r in versions} == {
        org_id: final_version(names) for org_id, names in history.items()
    }
    topic = world.topic(ORGS.topic)
    stored = await fetch(
        world,
        "SELECT partition, next_offset FROM read.projection_offsets WHERE projection = 'orgs'",
    )
    ends = await _end_offsets(world, topic)
    assert {r["partition"]: r["next_offset"] for r in stored} == {
        p: end for p, end in ends.items() if end
    }


async def test_files_removed_and_found_again_across_writes_rebuild_to_the_last_word(
    world: World, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = uuid4()
    history = [
        ("FolderFilesDiscovered", {"files": [a_file(f, f"{f}1") for f in ("a", "b", "c")]}),
        ("FolderFilesRemoved", {"file_ids": ["b"]}),
        ("FolderFilesDiscovered", {"files": [a_file("b", "b2")]}),
        ("FolderFilesRemoved", {"file_ids": ["c"]}),
        ("FolderFilesDiscovered", {"files": [a_file("d", "d1")]}),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=world.settings.kafka_bootstrap)
    await producer.start()
    try:
        for version, (type_, data) in enumerate(history, 1):
            await producer.send_and_wait(
                world.topic(FOLDERS.topic),
                event(folder, version, type_, data).model_dump_json(by_alias=True).encode(),
                key=str(folder).encode(),
            )
    finally:
        await producer.stop()
    monkeypatch.setattr(FilesProjection, "fold_rows", 1)  # a write after every batch

    report = await in_two_processes(world, platform, FilesProjection(), 1)

    assert report.applied == len(history)
    files = await fetch(world, "SELECT file_id, name FROM read.files ORDER BY file_id")
    assert [(r["file_id"], r["name"]) for r in files] == [("a", "a1"), ("b", "b2"), ("d", "d1")]


async def test_a_child_that_fails_fails_the_rebuild_with_its_error(
    world: World, platform: Platform
) -> None:
    await create_and_rename(platform.apps["orgs"], orgs=20, renames=0)
    await publish_everything(platform)
    producer = AIOKafkaProducer(bootstrap_servers=world.settings.kafka_bootstrap)
    await producer.start()
    try:  # partition 1 is the second share's: a child replays it
        await producer.send_and_wait(world.topic(ORGS.topic), b"{not json", partition=1)
    finally:
        await producer.stop()

    with pytest.raises(ReplayFailed, match="ValidationError"):
        await in_two_processes(world, platform, OrgsProjection(), 50)


async def _end_offsets(world: World, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=world.settings.kafka_bootstrap)
    await consumer.start()
    try:
        partitions = await partitions_of(world.settings.kafka_bootstrap, [topic])
        return {tp.partition: end for tp, end in (await consumer.end_offsets(partitions)).items()}
    finally:
        await consumer.stop()


async def test_a_child_asked_to_stop_stops_and_one_killed_says_so(
    world: World, platform: Platform
) -> None:
    """The child must not keep the parent's signal handlers (they belong to its event loop):
    a rebuild stopped by SIGTERM or Ctrl-C stops its children too."""
    await create_and_rename(platform.apps["orgs"], orgs=1000, renames=1)
    await publish_everything(platform)
    partitions = await partitions_of(world.settings.kafka_bootstrap, [world.topic(ORGS.topic)])
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):  # as python -m infra does
        loop.add_signal_handler(signum, lambda: None)

    async def start() -> ChildReplay:
        child = start_child(
            OrgsProjection(),
            world.settings.database_url,
            world.settings.kafka_bootstrap,
            partitions,
            1,  # a record per batch: it runs long enough to be stopped
        )
        while child.count.events == 0:
            assert child.process.is_alive(), "the child ended before replaying anything"
            await asyncio.sleep(0.01)
        return child

    try:
        asked = await start()
        started = time.monotonic()
        await asked.stop()
        assert asked.process.exitcode == -signal.SIGTERM
        assert time.monotonic() - started < STOP_SECONDS  # it ended when asked, not killed

        killed = await start()
        killed.process.kill()
        with pytest.raises(ReplayFailed, match="ended with -9"):
            await killed.finished()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
