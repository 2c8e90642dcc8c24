"""Request metrics middleware shared by ingest and api (`<prefix>_http_requests_total`,
`<prefix>_http_request_duration_seconds`).

Pure ASGI (no BaseHTTPMiddleware) so it adds no task switch per request. Labels are bounded:
the route template of the matched route (set in the scope by the router), "unmatched" else.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp, requests: Counter, duration: Histogram) -> None:
        self.app = app
        self.requests = requests  # labels: route, method, status
        self.duration = duration  # labels: route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.requests.labels(template, scope.get("method", ""), str(status)).inc()
            self.duration.labels(template).observe(time.perf_counter() - started)
