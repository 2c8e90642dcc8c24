"""INGEST_WORKERS=2: two processes behind one port share every guarantee through Redis,
/metrics reports the sum over both, and killing the supervisor takes the workers along."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.support.intake import Bank, IngestService, event, post_concurrently, read_topic, start_ingest
from tests.support.services import ServiceRunner

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ingest2(isolated_env: dict[str, str], services: ServiceRunner) -> IngestService:
    return start_ingest(isolated_env, services, {"INGEST_WORKERS": "2"})


@pytest.fixture(scope="module")
def bank(ingest2: IngestService) -> Bank:
    return ingest2.add_bank("WORKERS")


def workers_of(pid: int) -> list[int]:
    """Children started by multiprocessing's spawn (not its resource tracker)."""
    found = [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]
    return [c for c in found if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def accepted_in_metrics(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("ingest_events_total{") and 'outcome="accepted"' in line
    )


async def one_connection_each(
    url: str, bodies: list[dict[str, object]], headers: dict[str, str]
) -> list[httpx.Response]:
    """A fresh connection per request, so the kernel spreads them over both workers."""

    async def post(body: dict[str, object]) -> httpx.Response:
        async with httpx.AsyncClient(base_url=url, timeout=30.0) as client:
            return await client.post("/v1/events", json=body, headers=headers)

    return list(await asyncio.gather(*(post(b) for b in bodies)))


def test_two_worker_processes_serve_the_port(ingest2: IngestService, services: ServiceRunner) -> None:
    assert len(workers_of(services.procs["ingest"].pid)) == 2


def test_every_event_once_and_metrics_are_the_sum_of_both_workers(
    ingest2: IngestService, bank: Bank, isolated_env: dict[str, str]
) -> None:
    bodies = [event(event_id=f"WK-{i}") for i in range(120)]
    first = asyncio.run(one_connection_each(ingest2.url, bodies, bank.auth))
    assert [r.status_code for r in first] == [202] * 120
    # Every body again: whichever worker answers, it is a duplicate.
    again = asyncio.run(one_connection_each(ingest2.url, bodies, bank.auth))
    assert [r.status_code for r in again] == [200] * 120
    on_topic = Counter(json.loads(v)["event_id"] for _, v in read_topic(isolated_env))
    assert {f"WK-{i}": 1 for i in range(120)}.items() <= on_topic.items()
    assert all(on_topic[f"WK-{i}"] == 1 for i in range(120))
    # Each scrape may be answered by either worker; both must report all 120.
    assert [accepted_in_metrics(ingest2.url) for _ in range(6)] == [120.0] * 6


def test_identical_posts_across_workers_produce_one_message(
    ingest2: IngestService, bank: Bank, isolated_env: dict[str, str]
) -> None:
    body = event(event_id="WK-SAME")
    responses = post_concurrently(ingest2, "/v1/events", [body] * 30, bank.auth)
    assert sorted(r.status_code for r in responses) == [200] * 29 + [202]
    assert sum(json.loads(v)["event_id"] == "WK-SAME" for _, v in read_topic(isolated_env)) == 1


def established_by(pid: int, port: int) -> int:
    """ESTABLISHED TCP connections on the local port whose socket the process holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01" and fields[9] in inodes:
            count += 1
    return count


def test_long_lived_connections_are_spread_over_both_workers(
    ingest2: IngestService, bank: Bank, services: ServiceRunner
) -> None:
    port = int(ingest2.url.rsplit(":", 1)[1])
    clients = [httpx.Client(base_url=ingest2.url, timeout=30.0) for _ in range(16)]
    try:
        for n, client in enumerate(clients):  # one keep-alive connection each
            assert (
                client.post("/v1/events", json=event(event_id=f"WK-SPREAD-{n}"), headers=bank.auth).status_code == 202
            )
        per_worker = [established_by(w, port) for w in workers_of(services.procs["ingest"].pid)]
        assert sum(per_worker) == 16
        # With one shared listening socket all 16 tended to land on one worker.
        assert min(per_worker) > 0, per_worker
    finally:
        for client in clients:
            client.close()


def test_a_killed_worker_is_replaced(ingest2: IngestService, bank: Bank, services: ServiceRunner) -> None:
    supervisor = services.procs["ingest"].pid
    victim = workers_of(supervisor)[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        current = workers_of(supervisor)
        if len(current) == 2 and victim not in current:
            break
        assert time.monotonic() < deadline, f"no replacement worker: {current}"
        time.sleep(0.2)
    for n in range(20):  # whichever worker answers, intake works
        response = httpx.post(
            f"{ingest2.url}/v1/events", json=event(event_id=f"WK-AFTER-{n}"), headers=bank.auth, timeout=30.0
        )
        assert response.status_code == 202, response.text


def test_sigkill_of_the_supervisor_takes_the_workers_along(ingest2: IngestService, services: ServiceRunner) -> None:
    supervisor = services.procs["ingest"]
    workers = workers_of(supervisor.pid)
    assert len(workers) == 2
    port = int(ingest2.url.rsplit(":", 1)[1])
    services.kill("ingest", signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{w}").exists() and "Z" not in _state(w) for w in workers):
        assert time.monotonic() < deadline, "a worker outlived its SIGKILLed supervisor"
        time.sleep(0.1)
    with socket.socket() as sock:  # nobody holds the port any more
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "Z"
