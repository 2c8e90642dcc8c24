"""Concurrent copies of one event reach Kafka exactly once (the intake app in this process
with its real producer; a real consumer reads the topic back)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.intake import Bank, IngestService, event, post_concurrently, read_topic

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bank(ingest: IngestService) -> Bank:
    return ingest.add_bank("CONCURRENT")


def on_topic(env: dict[str, str], event_id: str) -> list[dict[str, Any]]:
    return [m for m in (json.loads(v) for _, v in read_topic(env)) if m["event_id"] == event_id]


def test_fifty_concurrent_identical_posts_produce_one_message(
    ingest: IngestService, bank: Bank, isolated_env: dict[str, str]
) -> None:
    body = event(event_id="CONC-SAME-1")
    responses = post_concurrently(ingest, "/v1/events", [body] * 50, bank.auth)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 49 + [202], [r.text for r in responses if r.status_code >= 300]
    assert all(r.json()["duplicate"] is True for r in responses if r.status_code == 200)
    messages = on_topic(isolated_env, "CONC-SAME-1")
    assert len(messages) == 1
    assert messages[0]["bank_id"] == "CONCURRENT"


def test_concurrent_conflicting_bodies_one_wins_the_rest_conflict(
    ingest: IngestService, bank: Bank, isolated_env: dict[str, str]
) -> None:
    bodies = [event(event_id="CONC-CONFLICT-1", amount=f"{n + 1}.00") for n in range(20)]
    responses = post_concurrently(ingest, "/v1/events", bodies, bank.auth)
    codes = sorted(r.status_code for r in responses)
    assert codes == [202] + [409] * 19
    winner = next(b for b, r in zip(bodies, responses, strict=True) if r.status_code == 202)
    [message] = on_topic(isolated_env, "CONC-CONFLICT-1")
    assert message["amount"] == winner["amount"]


def test_concurrent_overlapping_batches_produce_each_event_once(
    ingest: IngestService, bank: Bank, isolated_env: dict[str, str]
) -> None:
    shared = [event(event_id=f"CONC-BATCH-{i}") for i in range(40)]
    batches = [{"events": shared[n : n + 20]} for n in range(0, 21, 5)] * 4
    responses = post_concurrently(ingest, "/v1/events/batch", batches, bank.auth)
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    statuses = [item["status"] for r in responses for item in r.json()["results"]]
    assert "rejected" not in statuses
    assert statuses.count("accepted") == 40
    ids = [json.loads(v)["event_id"] for _, v in read_topic(isolated_env)]
    assert all(ids.count(f"CONC-BATCH-{i}") == 1 for i in range(40))
