"""Prometheus metrics of the aggregator (names are a contract: docs/architecture.md)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_APPLIED = Counter("aggregate_events_applied", "Originals counted in the ledger", ["category"])
DUPLICATES = Counter("aggregate_duplicates", "Identical copies of recorded events skipped")
REVERSALS = Counter("aggregate_reversals", "Reversals applied or stored as pending", ["outcome"])
DLQ = Counter("aggregate_dlq", "Messages sent to the DLQ", ["reason"])
BATCH_APPLY_SECONDS = Histogram(
    "aggregate_batch_apply_seconds",
    "Ledger commit plus Redis apply of one batch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CONSUMER_LAG = Gauge(
    "aggregate_consumer_lag", "Kafka high watermark minus the offset of record in PostgreSQL", ["partition"]
)
LAST_APPLIED = Gauge("aggregate_last_applied_timestamp_seconds", "Unix time of the last Redis apply")
LAST_RECEIVED = Gauge(
    "aggregate_last_event_received_timestamp_seconds", "Ingest receive time (received_at) of the newest event processed"
)
READY = Gauge("aggregate_ready", "1 when consuming with PostgreSQL and Redis reachable")

for _outcome in ("applied", "pending"):
    REVERSALS.labels(outcome=_outcome)
