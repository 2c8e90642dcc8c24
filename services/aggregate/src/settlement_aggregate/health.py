"""/healthz (process alive), /readyz (consuming, PostgreSQL and Redis reachable), /metrics.

A small threaded HTTP server: the consumer loop is synchronous and must not be starved.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from settlement_aggregate import metrics

logger = logging.getLogger(__name__)


class Readiness:
    """Shared between the loop (writer) and the HTTP threads (readers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = False
        self._reason = "starting"

    def set(self, ready: bool, reason: str = "") -> None:
        with self._lock:
            changed = ready != self._ready
            self._ready, self._reason = ready, reason
        metrics.READY.set(1 if ready else 0)
        if changed:
            logger.info("readiness changed", extra={"ready": ready, "reason": reason})

    def get(self) -> tuple[bool, str]:
        with self._lock:
            return self._ready, self._reason


def serve(host: str, port: int, readiness: Readiness) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                self._send(200, "application/json", b'{"status":"ok"}')
            elif path == "/readyz":
                ready, reason = readiness.get()
                body = json.dumps({"ready": ready, "reason": reason}).encode()
                self._send(200 if ready else 503, "application/json", body)
            elif path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest())
            else:
                self._send(404, "application/json", b'{"error":"not found"}')

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            del format, args  # scrapes every few seconds would drown the JSON log

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    return server
