"""api_http_* request metrics, labelled by route template (bounded), never by raw path."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram

from settlement_core.http_metrics import RequestMetricsMiddleware

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "api_http_requests_total", "API requests.", ["route", "method", "status"], registry=registry
        )
        self.duration = Histogram(
            "api_http_request_duration_seconds", "API request latency.", ["route"], buckets=_BUCKETS, registry=registry
        )

    def install(self, app: FastAPI) -> None:
        app.add_middleware(RequestMetricsMiddleware, requests=self.requests, duration=self.duration)
