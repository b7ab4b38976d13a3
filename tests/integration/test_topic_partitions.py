"""Topics are created with their planned partitions; an existing one is left as it is, said."""

from __future__ import annotations

import logging
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from broker.admin import ensure_topics, partitions_of
from infra.settings import Settings
from tests.support.waiting import eventually


async def test_topics_are_created_with_their_counts_and_an_existing_one_is_not_changed(
    stack: None, caplog: pytest.LogCaptureFixture
) -> None:
    bootstrap = Settings().kafka_bootstrap
    tag = uuid.uuid4().hex[:8]
    wide, narrow = f"test-{tag}.wide", f"test-{tag}.narrow"
    try:
        created = await ensure_topics(bootstrap, {wide: 4, narrow: 1})
        assert sorted(created) == sorted([wide, narrow])

        async def counts() -> dict[str, int]:  # a new topic's metadata spreads in a moment
            found = {t: 0 for t in (wide, narrow)}
            for tp in await partitions_of(bootstrap, [wide, narrow]):
                found[tp.topic] += 1
            return found

        await eventually(counts, lambda c: c == {wide: 4, narrow: 1}, timeout=20, what="counts")

        with caplog.at_level(logging.WARNING, logger="broker.admin"):
            assert await ensure_topics(bootstrap, {wide: 8, narrow: 1}) == []
        warned = [r.getMessage() for r in caplog.records if wide in r.getMessage()]
        assert warned and "4 partitions, not the 8" in warned[0]
        assert not any(narrow in r.getMessage() for r in caplog.records)
        assert len(await partitions_of(bootstrap, [wide])) == 4
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([wide, narrow])
        finally:
            await admin.close()
