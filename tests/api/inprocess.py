"""The API app in the test process, on the real Redis and PostgreSQL of the stack.

`api_client` runs the app's lifespan (the catalogue, the Redis client, the engine, exactly as
`python -m settlement_api` builds them) on an event loop in a worker thread and hands the
test a synchronous httpx client whose requests go through httpx's ASGI transport: no port,
no process start, no health polling. Everything below the app is real: keys are checked in
PostgreSQL, rate buckets and figures are read from Redis.

httpx.ASGITransport rather than Starlette's TestClient: TestClient percent-decodes the path
twice (`/v1/events/ABC%252F1` reaches the app as `ABC/1`, uvicorn gives `ABC%2F1`), so an
event id with an escaped `/` would read differently than on the server.

Tests of what only a process shows (signals, the HTTP server's timeouts, several replicas,
a browser, a CLI that fetches over HTTP) start `python -m settlement_api` instead
(tests.conftest.ServiceRunner).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from unittest import mock

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI

from settlement_api.app import create_app
from settlement_api.settings import ApiSettings

# The address requests come from (rate limits charge it like a socket peer).
CLIENT = ("127.0.0.1", 50000)


def api_settings(env: Mapping[str, str]) -> ApiSettings:
    """The settings the process would read with `env` over this process's environment
    (what ServiceRunner.start gives a service)."""
    with mock.patch.dict(os.environ, dict(env)):
        return ApiSettings()


class PortalTransport(httpx.BaseTransport):
    """Synchronous requests run by httpx.ASGITransport on the portal's event loop."""

    def __init__(self, portal: BlockingPortal, app: FastAPI) -> None:
        self._portal = portal
        self._asgi = httpx.ASGITransport(app=app, client=CLIENT)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            response = await self._asgi.handle_async_request(request)
            body = b"".join([part async for part in response.aiter_raw()])
            return response.status_code, response.headers.raw, body

        status, headers, body = self._portal.call(send)
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body), request=request)


@contextmanager
def api_client(env: Mapping[str, str]) -> Iterator[httpx.Client]:
    """A client of a fresh app built from `env`; the lifespan runs on entry and exit."""
    app = create_app(api_settings(env))
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(app.router.lifespan_context(app)),
        httpx.Client(transport=PortalTransport(portal, app), base_url="http://127.0.0.1", timeout=30) as client,
    ):
        yield client
