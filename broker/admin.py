"""Topic creation: every topic exists before anyone publishes, and keeps its events forever."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

# Integrators read from the beginning, so neither time nor size may delete an event.
KEEP_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}
TOPIC_ALREADY_EXISTS = 36

log = logging.getLogger(__name__)


async def ensure_topics(bootstrap: str, partitions: Mapping[str, int]) -> list[str]:
    """Create the topics that are missing, each with its number of partitions; return the
    names it created.

    A topic that exists keeps its partitions: adding some would move keys to other partitions
    (and so reorder an aggregate's events for a while), and Kafka cannot remove any. One whose
    count differs from the one asked is named in a warning, so a changed setting is not
    silently ignored.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in partitions if t not in existing]
        present = [t for t in partitions if t in existing]
        if present:
            for topic in await admin.describe_topics(present):
                count = len(topic["partitions"])
                if topic["error_code"] == 0 and count != partitions[topic["topic"]]:
                    log.warning(
                        "topic %s has %d partitions, not the %d asked for: a topic's "
                        "partitions are never changed here (see docs/scaling.md)",
                        topic["topic"],
                        count,
                        partitions[topic["topic"]],
                    )
        if not missing:
            return []
        response = await admin.create_topics(
            [NewTopic(t, partitions[t], 1, topic_configs=KEEP_FOREVER) for t in missing]
        )
        for topic, code, *rest in response.topic_errors:
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise RuntimeError(f"Kafka refused to create topic {topic}: error {code} {rest}")
        return missing
    finally:
        await admin.close()


async def partitions_of(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    """Every partition of these topics, asked of the cluster (a consumer knows only its own)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return sorted(
        TopicPartition(t["topic"], p["partition"])
        for t in described
        if t["error_code"] == 0
        for p in t["partitions"]
    )
