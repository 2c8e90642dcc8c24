"""Aggregator settings: the shared core settings plus consumer tuning (all from the environment)."""

from __future__ import annotations

from pydantic import Field

from settlement_core.settings import CoreSettings


class AggregateSettings(CoreSettings):
    consumer_group: str = "settlement-aggregate"
    aggregate_host: str = "127.0.0.1"
    aggregate_port: int = Field(default=8003, ge=0, le=65535)
    # Records per poll, hence per ledger transaction. Larger batches amortise the
    # PostgreSQL round trips and the Redis script call (2000 -> 10000 measured +40%, see
    # bench/README.md); a poll returns only what is there, so latency at low rates is the same.
    aggregate_batch_size: int = Field(default=10_000, ge=1)
    aggregate_poll_timeout_ms: int = Field(default=500, ge=1)
    # The broker holds a fetch until this much data is there or the wait is over. Without
    # it, at a few thousand events/s every poll brings a few dozen records and each pays a
    # whole ledger transaction and Redis call (measured: ~150 µs of aggregator CPU per event
    # at 3,000/s against ~40 µs in full batches). 50 ms is a small part of the end-to-end
    # latency budget.
    aggregate_fetch_min_bytes: int = Field(default=256 * 1024, ge=1)
    aggregate_fetch_max_wait_ms: int = Field(default=50, ge=0, le=5000)
    aggregate_backoff_initial_s: float = Field(default=0.2, gt=0)
    aggregate_backoff_max_s: float = Field(default=10.0, gt=0)
    # Effects replayed from the ledger per Redis call when the fence does not match.
    aggregate_replay_chunk: int = Field(default=20_000, ge=1)
    # Kafka group membership. 10 s lets a SIGKILLed member's partitions move quickly; a
    # static member id (KIP-345) lets a restarted instance take its partitions back at once.
    aggregate_session_timeout_ms: int = Field(default=10_000, ge=6000)
    aggregate_instance_id: str | None = None
    # How often the loop compares every owned partition's Redis fence with the ledger (and
    # repairs a projection a Redis failover left behind), busy or idle.
    aggregate_fence_check_s: float = Field(default=2.0, gt=0)
    # Test-only fault hook, e.g. "crash_after_ledger_commit:3" (see faults.py).
    aggregate_fault: str | None = None
