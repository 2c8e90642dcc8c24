"""Refusals at the edge move the quality score (issue 25 step 5: "rejections (422s and dead
letters)"), on the real stack: a real ingest refuses, counts per bank and flushes to the real
PostgreSQL; the real aggregator counts the valid events; a real API scores.

Bank rjA sends a batch of 99 valid events and 1 invalid item, then one invalid single event
(two 422 refusals), and one body that is not JSON (a 400: the request, not an event, is
refused, so it is not counted). Bank rjB sends one invalid event of its own, which must not
move rjA's score. The expected component is computed here from what was sent and the
tolerance read straight from seeds/quality.yaml: 2 / (99 + 2) refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml

from tests.support.pipeline import Pipeline, serve_pipeline
from tests.support.services import ServiceRunner

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEIGHTS = yaml.safe_load((Path(__file__).resolve().parents[3] / "seeds" / "quality.yaml").read_text(encoding="utf-8"))
VALID = 99
SIX = Decimal("0.000001")


@pytest.fixture(scope="module")
def stack(isolated_env: dict[str, str], services: ServiceRunner) -> Pipeline:
    return serve_pipeline(isolated_env, services, [("rjA", "Refused Bank"), ("rjB", "Other Bank")], {})


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


def event(event_id: str, value_date: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "category": "cross_border_rmb",
        "amount": "100.00",
        "currency": "CNY",
        "value_date": value_date,
        "direction": "outbound",
        "counterparty_country": "SG",
    }


def rejections(stack: Pipeline, client: httpx.Client, bank: str, period: str) -> dict[str, Any]:
    response = client.get(f"{stack.api}/v1/banks/{bank}/quality", params={"period": period}, headers=stack.banks[bank])
    assert response.status_code == 200, response.text
    component: dict[str, Any] = {c["name"]: c for c in response.json()["components"]}["rejections"]
    return component


def test_events_refused_at_the_edge_count_as_rejections_of_their_bank(stack: Pipeline, client: httpx.Client) -> None:
    today = datetime.now(SHANGHAI).date()
    period = f"{today:%Y-%m}"
    a, b = stack.banks["rjA"], stack.banks["rjB"]
    batch = [event(f"RJ-{n:03d}", today.isoformat()) for n in range(VALID)] + [event("RJ-bad-item", "2020-13-45")]
    answer = client.post(f"{stack.ingest}/v1/events/batch", json={"events": batch}, headers=a)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["accepted"], [r["status"] for r in answer.json()["results"]][-1]) == (VALID, "rejected")
    single = client.post(f"{stack.ingest}/v1/events", json=event("RJ-bad-one", "not a date"), headers=a)
    assert single.status_code == 422, single.text
    not_json = client.post(
        f"{stack.ingest}/v1/events", content=b"{not json", headers={**a, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400, not_json.text
    other = client.post(f"{stack.ingest}/v1/events", json=event("RJ-other", "2020-02-30"), headers=b)
    assert other.status_code == 422, other.text

    refused = 2
    rate = Decimal(refused) / (VALID + refused)
    expected = {
        "measure": str(rate.quantize(SIX, rounding=ROUND_HALF_EVEN)),
        "score": str(max(Decimal(0), 1 - rate / Decimal(WEIGHTS["rejections"]["tolerance"])).quantize(SIX)),
    }
    # Ingest flushes its counts every 2 s and the aggregator counts the 99 events: wait for both.
    deadline = time.monotonic() + 90
    while True:
        got = rejections(stack, client, "rjA", period)
        if {k: got[k] for k in expected} == expected or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert {k: got[k] for k in expected} == expected, got
    # rjB's one refusal is its own: 1 / (0 + 1), beyond any tolerance.
    assert rejections(stack, client, "rjB", period)["measure"] == "1.000000"
