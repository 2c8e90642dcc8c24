"""Shared settlement contract: the event schema, the target catalogue, money and FX,
settings, and the thin adapters around Kafka, Redis and PostgreSQL."""
