"""A service's ASGI app served inside the test process, against the real stores.

The app's lifespan and every request run on one event loop in a background thread (anyio's
blocking portal), reached through `httpx.ASGITransport`; a synchronous transport in front of
it lets tests keep the plain `httpx.Client` they use against a process. What the test skips
is only the process: no interpreter start, no port, no readiness polling, no TCP. Clients of
Kafka, Redis and PostgreSQL are the app's own, made by its lifespan from the environment.

Requests sent from several threads at once run as concurrent tasks on the app's loop, as
they would in one uvicorn worker. Crash, signal, worker and multi-process behaviour (and the
HTTP server's own timeouts) still need the process: tests/support/services.py.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI

# The base URL of an app in this process. Never dialled: the transport answers it.
IN_PROCESS_URL = "http://in-process.test"


class _Chunks(httpx.AsyncByteStream):
    """A request body as the test's client sent it, chunk for chunk (a generator body stays
    chunked, without Content-Length, as over HTTP)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


class PortalTransport(httpx.BaseTransport):
    """Synchronous httpx transport to an ASGI app running on a portal's event loop."""

    def __init__(self, portal: BlockingPortal, app: FastAPI) -> None:
        self._portal = portal
        # An exception the app does not handle becomes a 500, as uvicorn answers it.
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        forwarded = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,  # exactly these: no Content-Length added to a chunked body
            stream=_Chunks(list(request.stream)),
            extensions=request.extensions,
        )

        async def send() -> tuple[int, httpx.Headers, bytes]:
            response = await self._asgi.handle_async_request(forwarded)
            return response.status_code, response.headers, await response.aread()

        status, headers, body = self._portal.call(send)
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body), request=request)

    def close(self) -> None:
        """Shared by every client of the app; the app stops with `serve_in_process`."""


@contextmanager
def serve_in_process(make_app: Callable[[], FastAPI], env: Mapping[str, str]) -> Iterator[PortalTransport]:
    """Runs the app made by make_app, with its lifespan, until the block ends.

    The app reads its settings and keys from os.environ, as the service process does from
    the environment it was started with; `env` is put there for as long as the app runs.
    """
    threshold = gc.get_threshold()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            app = make_app()
            with (
                start_blocking_portal() as portal,
                portal.wrap_async_context_manager(app.router.lifespan_context(app)),
            ):
                yield PortalTransport(portal, app)
    finally:
        # A service's lifespan tunes the collector for a long-lived process
        # (settlement_core.gc_tuning): undone here, the test process runs on.
        gc.unfreeze()
        gc.set_threshold(*threshold)
