"""Prometheus metrics of the aggregator (names are a contract: docs/architecture.md)."""

from __future__ import annotations

import contextlib
import time
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram

if TYPE_CHECKING:
    from settlement_aggregate.planning import BatchPlan

EVENTS_APPLIED = Counter("aggregate_events_applied", "Originals counted in the ledger", ["category"])
DUPLICATES = Counter("aggregate_duplicates", "Identical copies of recorded events skipped")
REVERSALS = Counter("aggregate_reversals", "Reversals applied or stored as pending", ["outcome"])
CORRECTIONS = Counter("aggregate_corrections", "Corrections applied (each replaced an original)")
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
PROJECTION_FENCE_LAG = Gauge(
    "aggregate_projection_fence_lag",
    "Ledger offset of record minus the Redis fence; > 0: Redis lost applied writes (failover), being repaired",
    ["partition"],
)
READY = Gauge("aggregate_ready", "1 when consuming with PostgreSQL and Redis reachable")

for _outcome in ("applied", "pending"):
    REVERSALS.labels(outcome=_outcome)


def record_batch(plan: BatchPlan, valid_received: list[datetime]) -> None:
    """Counters of one committed batch (after the ledger commit, before the Redis apply)."""
    for category, n in plan.counted.items():
        EVENTS_APPLIED.labels(category=category).inc(n)
    if plan.duplicates:
        DUPLICATES.inc(plan.duplicates)
    if plan.reversals_applied:
        REVERSALS.labels(outcome="applied").inc(plan.reversals_applied)
    if plan.reversals_pending:
        REVERSALS.labels(outcome="pending").inc(plan.reversals_pending)
    if plan.corrections_applied:
        CORRECTIONS.inc(plan.corrections_applied)
    for entry in plan.dlq:
        DLQ.labels(reason=entry.reason).inc()
    if valid_received:
        LAST_RECEIVED.set(max(valid_received).timestamp())


def record_applied(seconds: float) -> None:
    LAST_APPLIED.set(time.time())
    BATCH_APPLY_SECONDS.observe(seconds)


def set_consumer_lag(partition: int, lag: int) -> None:
    CONSUMER_LAG.labels(partition=str(partition)).set(lag)


def set_fence_lag(partition: int, lag: int) -> None:
    PROJECTION_FENCE_LAG.labels(partition=str(partition)).set(lag)


def forget_partition(partition: int) -> None:
    """Drop the per-partition series of a partition this instance no longer owns."""
    for gauge in (CONSUMER_LAG, PROJECTION_FENCE_LAG):
        with contextlib.suppress(KeyError):
            gauge.remove(str(partition))
