"""Facts from ``../shared/contract.md`` that tests check the platform against."""

ENVELOPE_FIELDS = frozenset(
    {"id", "type", "stream", "aggregate_id", "version", "org_id", "occurred_at", "schema", "data"}
)
"""Every Kafka message carries these; ``actor`` is our extension."""
