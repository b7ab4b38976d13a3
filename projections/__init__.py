"""Read models: one module per read table, fed from Kafka by projection workers."""
