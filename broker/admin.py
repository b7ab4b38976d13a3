"""Topic creation: every topic exists before anyone publishes, and keeps its events forever."""

from __future__ import annotations

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

# Integrators read from the beginning, so neither time nor size may delete an event.
KEEP_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}
TOPIC_ALREADY_EXISTS = 36


async def ensure_topics(bootstrap: str, topics: list[str], partitions: int) -> list[str]:
    """Create the topics that are missing; return the names it created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [NewTopic(t, partitions, 1, topic_configs=KEEP_FOREVER) for t in missing]
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
