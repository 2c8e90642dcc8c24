"""M3: a per-bank cap on concurrent requests across all ingest workers.

A bank held any number of requests open by sending bodies slowly. Now each request takes a
lease in Redis (`inflight:{bank}`, token-owned, with expiry) before its body is read; over
BANK_MAX_IN_FLIGHT the answer is 429 problem+json with Retry-After. On the starting code the
third request below is accepted (202), so the test fails there.
"""

from __future__ import annotations

import socket
import time

import httpx
import pytest
import redis

from tests.conftest import ServiceRunner
from tests.security.intake_support import connect, head, post_retrying
from tests.support.intake import IngestService, event, start_ingest

pytestmark = pytest.mark.integration

CAP = 2


@pytest.fixture(scope="module")
def ingest(isolated_env: dict[str, str], services: ServiceRunner) -> IngestService:
    return start_ingest(isolated_env, services, {"BANK_MAX_IN_FLIGHT": str(CAP)})


@pytest.fixture(scope="module")
def second_ingest(isolated_env: dict[str, str], services: ServiceRunner, ingest: IngestService) -> str:
    """Another ingest process on the same Redis, as a second worker or host would be: the cap
    must hold across processes. (Two separate processes rather than INGEST_WORKERS=2, whose
    spawned workers re-import everything and missed the 60 s start bound on the loaded
    shared machine; tests/ingest/test_workers.py covers the supervisor itself.)"""
    return services.serve("ingest-b", "settlement_ingest", {"BANK_MAX_IN_FLIGHT": str(CAP)}).url


def _in_flight(env: dict[str, str], bank_id: str) -> int:
    # The lease set of ratelimit.py, spelled out so this module imports nothing the starting
    # code lacks (there it fails on the 202, not on an import).
    return int(redis.Redis.from_url(env["REDIS_URL"]).zcard(f"inflight:{{{bank_id}}}"))


def _wait_for(predicate: object, what: str, limit_s: float = 20.0) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} did not happen"
        time.sleep(0.05)


def test_requests_over_the_cap_are_429_and_slots_come_back(
    ingest: IngestService, second_ingest: str, isolated_env: dict[str, str]
) -> None:
    bank = ingest.add_bank("SECCAP1")
    other = ingest.add_bank("SECCAP2")
    held: list[socket.socket] = []
    try:
        for url in (ingest.url, second_ingest):  # one slow request on each process
            # Headers declare 1000 bytes; 10 arrive, the rest never: the request stays open.
            sock = connect(url)
            sock.sendall(
                head("POST", "/v1/events", {**bank.auth, "Content-Type": "application/json", "Content-Length": "1000"})
                + b'{"event_id'
            )
            held.append(sock)
        _wait_for(lambda: _in_flight(isolated_env, bank.bank_id) == CAP, "both slow requests holding a lease")

        with httpx.Client(base_url=ingest.url, timeout=30) as client:
            refused = client.post("/v1/events", json=event(), headers=bank.auth)
            assert refused.status_code == 429, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert int(refused.headers["retry-after"]) >= 1
            assert refused.json()["type"].endswith("/too-many-in-flight")
            # Per bank: another bank is not affected.
            assert post_retrying(client, "/v1/events", json=event(), headers=other.auth).status_code == 202
    finally:
        for sock in held:
            sock.close()
    # The server sees the disconnects and releases the leases in its `finally`.
    _wait_for(lambda: _in_flight(isolated_env, bank.bank_id) == 0, "leases released after the clients left")
    with httpx.Client(base_url=ingest.url, timeout=30) as client:
        assert post_retrying(client, "/v1/events", json=event(), headers=bank.auth).status_code == 202
