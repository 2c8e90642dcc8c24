"""Low finding: a connection that sends its headers slowly was never timed out, in either
server (uvicorn only times out idle keep-alive connections, and any byte resets that).

Both servers now run settlement_core.http_timeouts: headers must be complete within
HTTP_HEADER_TIMEOUT_S of the connection's start (or of a next request's first byte), the
body within HTTP_BODY_TIMEOUT_S of the headers. These processes get 1 s and 2 s. The
attacker trickles a byte every 0.25 s for up to 30 s; the assertion is that the server
closed the connection (with a 408 problem when nothing else was answered), not a latency.
On the starting code the trickle runs the full 30 s on an open connection, and the test fails.
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ServiceRunner
from tests.security.intake_support import connect, head, trickle_until_closed
from tests.support.intake import IngestService, start_ingest

pytestmark = pytest.mark.integration

TIMEOUTS = {"HTTP_HEADER_TIMEOUT_S": "1", "HTTP_BODY_TIMEOUT_S": "2"}
GUARD_S = 30.0


@pytest.fixture(scope="module")
def ingest(isolated_env: dict[str, str], services: ServiceRunner) -> IngestService:
    return start_ingest(isolated_env, services, TIMEOUTS)


@pytest.fixture(scope="module")
def api_url(services: ServiceRunner) -> str:
    return services.serve("api", "settlement_api", TIMEOUTS).url


def _slowloris(url: str, path: str) -> tuple[bool, bytes]:
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"X-Pad-{i}: {i}\r\n" for i in range(200))
    sock = connect(url)
    try:
        return trickle_until_closed(sock, request.encode(), gap_s=0.25, guard_s=GUARD_S)
    finally:
        sock.close()


def _stalled_body(url: str, path: str, headers: dict[str, str]) -> tuple[bool, bytes]:
    sock = connect(url)
    try:
        sock.sendall(head("POST", path, {**headers, "Content-Type": "application/json", "Content-Length": "4000"}))
        return trickle_until_closed(sock, b'{"event_id": "slow', gap_s=0.25, guard_s=GUARD_S)
    finally:
        sock.close()


def _assert_cut_off(closed: bool, received: bytes) -> None:
    assert closed, "the server kept the connection open for the whole trickle"
    assert received.startswith(b"HTTP/1.1 408 "), received[:200]
    assert b"application/problem+json" in received


def test_ingest_cuts_off_slow_headers(ingest: IngestService) -> None:
    _assert_cut_off(*_slowloris(ingest.url, "/healthz"))


def test_ingest_cuts_off_a_stalled_body(ingest: IngestService) -> None:
    bank = ingest.add_bank("SECSLOW")
    _assert_cut_off(*_stalled_body(ingest.url, "/v1/events", bank.auth))
    # The stalled request's in-flight lease was released: the bank is served normally.
    with httpx.Client(base_url=ingest.url, timeout=30) as client:
        ok = client.post("/v1/events/batch", json={"events": [{"x": 1}]}, headers=bank.auth)
    assert ok.status_code == 200, ok.text


def test_api_cuts_off_slow_headers(api_url: str) -> None:
    _assert_cut_off(*_slowloris(api_url, "/healthz"))


def test_api_cuts_off_a_stalled_body(api_url: str) -> None:
    closed, received = _stalled_body(api_url, "/healthz", {})
    assert closed, "the server kept the connection open for the whole trickle"
    # The API may answer before reading the body (405); the connection is closed all the same.
    assert received.startswith(b"HTTP/1.1 "), received[:200]


@pytest.mark.parametrize("server", ["ingest", "api"])
def test_keep_alive_still_serves_several_requests(server: str, ingest: IngestService, api_url: str) -> None:
    url = ingest.url if server == "ingest" else api_url
    with httpx.Client(base_url=url, timeout=10) as client:
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
