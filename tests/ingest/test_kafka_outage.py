"""Broker outage: intake answers 503 within the bound and never 202 while Kafka is away,
resumes by itself when it returns, and everything it acknowledged is on the topic.

Stops the shared broker with deploy/local/stack.sh for a few seconds (restarted in a
`finally`), so it runs against the real Kafka, Redis and PostgreSQL; the intake app runs in
this process (tests/ingest/conftest.py), with its own real producer.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.intake import IngestService, event, read_topic

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "deploy" / "local" / "stack.sh"
BOUND_S = 5.0
OUTLIVE_DELIVERY_TIMEOUT_S = 22.0


def stack(action: str) -> None:
    subprocess.run([str(STACK), action, "kafka"], check=True, timeout=180, capture_output=True)


class Load:
    """Posts fresh events (singles and small batches) in a loop and records the answers."""

    def __init__(self, service: IngestService, bank_auth: dict[str, str]) -> None:
        self.service = service
        self.auth = bank_auth
        self.stop = threading.Event()
        self.acknowledged: set[str] = set()
        self.statuses: list[int] = []
        self.lock = threading.Lock()

    def run(self, worker: int) -> None:
        with self.service.client(timeout=20.0) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                if n % 3:
                    body = event(event_id=f"load-{worker}-{n}")
                    response = client.post("/v1/events", json=body, headers=self.auth)
                    ok = {body["event_id"]} if response.status_code in (200, 202) else set()
                else:
                    batch = [event(event_id=f"load-{worker}-{n}-{i}") for i in range(5)]
                    response = client.post("/v1/events/batch", json={"events": batch}, headers=self.auth)
                    ok = set()
                    if response.status_code == 200:
                        ok = {
                            r["event_id"]
                            for r in response.json()["results"]
                            if r["status"] in ("accepted", "duplicate")
                        }
                with self.lock:
                    self.statuses.append(response.status_code)
                    self.acknowledged |= ok
                time.sleep(0.02)


def test_outage_answers_503_in_bound_then_resumes_and_loses_nothing(
    ingest: IngestService, isolated_env: dict[str, str]
) -> None:
    bank = ingest.add_bank("OUTAGE")
    load = Load(ingest, bank.auth)
    pool = ThreadPoolExecutor(max_workers=3)
    futures = [pool.submit(load.run, w) for w in range(3)]
    outage_answers: list[tuple[int, float, httpx.Response]] = []
    refused: list[dict[str, Any]] = []
    try:
        time.sleep(2.0)
        stack("stop")
        try:
            with ingest.client() as client:
                for _ in range(3):
                    body = event()
                    started = time.monotonic()
                    response = client.post("/v1/events", json=body, headers=bank.auth)
                    outage_answers.append((response.status_code, time.monotonic() - started, response))
                    refused.append(body)
                ready = client.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["checks"]["kafka"] != "ok"
                assert "ingest_kafka_up 0.0" in client.get("/metrics").text
            # Stay down past the producer's delivery timeout (20 s), so records queued when
            # the broker went away expire. kafka-python's idempotent producer then wedged
            # the partition (every later send unacknowledged) until the client was replaced.
            time.sleep(OUTLIVE_DELIVERY_TIMEOUT_S)
        finally:
            stack("start")
        resumed_at = None
        deadline = time.monotonic() + 120
        with ingest.client() as client:
            # The same requests that got 503 succeed on retry once the broker is back.
            pending = list(refused)
            while pending and time.monotonic() < deadline:
                response = client.post("/v1/events", json=pending[0], headers=bank.auth)
                if response.status_code in (200, 202):
                    resumed_at = resumed_at or time.monotonic()
                    load.acknowledged.add(pending.pop(0)["event_id"])
                else:
                    assert response.status_code == 503, response.text
                    time.sleep(0.5)
            assert not pending, "intake did not resume after Kafka came back"
            # A repeat of an acknowledged event is a duplicate, never a second message.
            again = client.post("/v1/events", json=refused[0], headers=bank.auth)
            assert again.status_code == 200
            assert again.json()["duplicate"] is True
            assert client.get("/readyz").status_code == 200
            assert "ingest_kafka_up 1.0" in client.get("/metrics").text
        time.sleep(2.0)
    finally:
        load.stop.set()
        for future in futures:
            future.result(timeout=60)
        pool.shutdown()

    for status, elapsed, response in outage_answers:
        assert status == 503, response.text
        assert elapsed <= BOUND_S, f"503 took {elapsed:.2f}s"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["status"] == 503
    assert 503 in load.statuses, "the load never saw the outage"
    assert load.statuses.count(202) > 10

    on_topic = [json.loads(value) for _, value in read_topic(isolated_env)]
    ids = {m["event_id"] for m in on_topic if m["bank_id"] == "OUTAGE"}
    missing = load.acknowledged - ids
    assert not missing, f"{len(missing)} acknowledged events are not on the topic"
    # Everything refused during the outage went through on retry, and nothing is on the topic
    # twice: a record that reached the broker late kept its claim, so its retry was answered
    # as a duplicate instead of being produced again.
    copies = Counter(m["event_id"] for m in on_topic if m["bank_id"] == "OUTAGE")
    for body in refused:
        assert copies[body["event_id"]] == 1, body["event_id"]
    doubled = {event_id: n for event_id, n in copies.items() if n > 1}
    assert not doubled, f"produced more than once: {doubled}"


def test_record_that_outlives_its_503_is_never_produced_twice(
    ingest: IngestService, isolated_env: dict[str, str]
) -> None:
    """A 503 during an outage leaves the record queued in the producer; when the broker comes
    back it may still be delivered. Its retry must then be a duplicate, not a second copy."""
    bank = ingest.add_bank("LATE")
    body = event()
    with ingest.client() as client:
        assert client.post("/v1/events", json=event(), headers=bank.auth).status_code == 202
        stack("stop")
        try:
            first = client.post("/v1/events", json=body, headers=bank.auth)
            assert first.status_code == 503, first.text
        finally:
            stack("start")
        answers: list[int] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            response = client.post("/v1/events", json=body, headers=bank.auth)
            answers.append(response.status_code)
            if response.status_code in (200, 202):
                break
            assert response.status_code == 503, response.text
            time.sleep(0.5)
        assert answers[-1] in (200, 202), answers
    copies = [m for _, value in read_topic(isolated_env) if (m := json.loads(value))["event_id"] == body["event_id"]]
    assert len(copies) == 1, f"{len(copies)} copies on the topic; answers {answers}"
