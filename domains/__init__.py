"""The pure domain model: aggregates, their events and rules. No I/O, no clock, no settings."""
