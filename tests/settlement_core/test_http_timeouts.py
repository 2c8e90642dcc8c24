"""Header and body deadlines of settlement_core.http_timeouts, on a real uvicorn server on
loopback with a minimal ASGI app (no stack needed)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from settlement_core.http_timeouts import HttpTimeouts, timed_protocol, timeout_response
from tests.conftest import free_port


def test_timeout_response_is_a_problem_that_closes() -> None:
    raw = timeout_response("headers")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"connection: close" in head
    assert f"content-length: {len(body)}".encode() in head
    assert json.loads(body)["status"] == 408


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_HEADER_TIMEOUT_S", "2.5")
    monkeypatch.setenv("HTTP_BODY_TIMEOUT_S", "7")
    timeouts = HttpTimeouts()
    assert (timeouts.http_header_timeout_s, timeouts.http_body_timeout_s) == (2.5, 7.0)
    assert HttpTimeouts.model_fields["http_header_timeout_s"].default == 10.0
    assert HttpTimeouts.model_fields["http_body_timeout_s"].default == 30.0


disconnects: list[str] = []


async def _echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            disconnects.append(scope["path"])
            return
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    port = free_port()
    timeouts = HttpTimeouts(http_header_timeout_s=0.5, http_body_timeout_s=1.0)
    config = uvicorn.Config(_echo, host="127.0.0.1", port=port, http=timed_protocol(timeouts), log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(instance.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not instance.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    yield port
    instance.should_exit = True
    thread.join(10)


def _exchange(port: int, parts: list[bytes], gap_s: float) -> tuple[bool, bytes]:
    """Sends the parts gap_s apart, reading in between, then reads for up to 10 s more;
    returns (the server closed the connection, what it sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    received = bytearray()

    def drain(wait_s: float) -> bool:
        deadline = time.monotonic() + wait_s
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                return False
            except OSError:
                return True
            if not chunk:
                return True
            received.extend(chunk)
        return False

    try:
        for part in parts:
            try:
                sock.sendall(part)
            except OSError:
                return True, bytes(received)
            if drain(gap_s):
                return True, bytes(received)
        return drain(10.0), bytes(received)
    finally:
        sock.close()


def test_slow_headers_are_cut_off(server: int) -> None:
    request = b"GET /slow HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: 1\r\n" * 20
    closed, received = _exchange(server, [bytes([b]) for b in request], 0.05)
    assert closed
    assert received.startswith(b"HTTP/1.1 408 ")


def test_a_silent_connection_is_cut_off(server: int) -> None:
    closed, received = _exchange(server, [], 0)
    assert closed
    assert received.startswith(b"HTTP/1.1 408 ")


def test_a_stalled_body_is_cut_off_and_the_app_sees_a_disconnect(server: int) -> None:
    head = b"POST /stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    closed, received = _exchange(server, [head, b"abc"], 0.1)
    assert closed
    assert received.startswith(b"HTTP/1.1 408 ")
    assert "/stalled" in disconnects


def test_keep_alive_serves_requests_and_a_slow_second_request_is_cut_off(server: int) -> None:
    first = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
    second = b"GET /b HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: 1\r\n" * 20
    closed, received = _exchange(server, [first, first, *(bytes([b]) for b in second)], 0.05)
    assert received.count(b"HTTP/1.1 200 OK") == 2
    assert closed
    assert received.endswith(b"}")  # the 408 problem ends the exchange


def test_a_complete_quick_request_is_answered(server: int) -> None:
    _, received = _exchange(server, [b"POST /q HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"], 0.1)
    assert received.startswith(b"HTTP/1.1 200 OK")
