"""Prometheus metrics of ingest; the names are a contract with deploy/prometheus and the
dashboards (docs/architecture.md). Labels are bounded: routes are the templates of the
declared routes (anything else is "unmatched"), reasons come from a fixed vocabulary.

Each app gets its own registry so several apps (tests) never clash on registration. When
the process is one of several workers (PROMETHEUS_MULTIPROC_DIR set by `serve`), values
are kept in the shared directory and /metrics merges every worker's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Outcome reasons; anything else is folded into "other" to keep label cardinality fixed.
REASONS = frozenset(
    {
        "",
        "validation",
        "conflict",
        "rate_limited",
        "unavailable",
        "in_progress",
        "unauthorized",
        "forbidden",
        "malformed",
    }
)


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass
class IngestMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        # What /metrics shows: this process's registry, or, as one of several workers, the
        # files of all of them (read at every scrape by the collector).
        self._exposed = r
        directory = os.environ.get(MULTIPROC_ENV)
        if directory:
            self._exposed = CollectorRegistry()
            MultiProcessCollector(self._exposed, path=directory)  # type: ignore[no-untyped-call]
        self.requests = Counter(
            "ingest_http_requests", "HTTP requests by route and status", ["route", "method", "status"], registry=r
        )
        self.duration = Histogram(
            "ingest_http_request_duration_seconds",
            "HTTP request duration",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.events = Counter("ingest_events", "Events by outcome and reason", ["outcome", "reason"], registry=r)
        # Requests refused before their body was read: by the byte bucket ("bytes") or the
        # per-bank in-flight cap ("in_flight").
        self.refusals = Counter(
            "ingest_requests_refused", "Requests refused before reading the body", ["reason"], registry=r
        )
        self.body_bytes_charged = Counter(
            "ingest_body_bytes_charged", "Body bytes charged to banks' byte buckets before reading", registry=r
        )
        self.produce_latency = Histogram(
            "ingest_produce_latency_seconds",
            "Time from send to Kafka acknowledgement (acks=all)",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        # Across workers: up only if every live worker's last contact succeeded.
        self.kafka_up = Gauge(
            "ingest_kafka_up", "1 when the last Kafka contact succeeded", registry=r, multiprocess_mode="livemin"
        )
        self.kafka_up.set(0)

    def event(self, outcome: str, reason: str = "", count: int = 1) -> None:
        if count:
            self.events.labels(outcome, reason if reason in REASONS else "other").inc(count)

    def refused(self, reason: str) -> None:
        self.refusals.labels(reason if reason in ("bytes", "in_flight") else "other").inc()

    def render(self) -> bytes:
        return generate_latest(self._exposed)

    def close(self) -> None:
        """A stopping worker leaves the merged live gauges."""
        directory = os.environ.get(MULTIPROC_ENV)
        if directory:
            mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]
