"""api_http_* request metrics, labelled by route template (bounded), never by raw path."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram

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
        @app.middleware("http")
        async def _observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
            started = time.perf_counter()
            status = 500
            try:
                response = await call_next(request)
                status = response.status_code
                return response
            finally:
                route = request.scope.get("route")
                label = getattr(route, "path", None) or "unmatched"
                self.requests.labels(label, request.method, str(status)).inc()
                self.duration.labels(label).observe(time.perf_counter() - started)
