"""Kafka: topics, the envelope every event travels in, the relay that publishes, consumers."""
