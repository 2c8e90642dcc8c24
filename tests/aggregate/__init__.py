"""Aggregator tests (unit and against the real Kafka, Redis and PostgreSQL)."""
