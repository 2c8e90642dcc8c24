"""End to end through the real parts: HTTP POST to ingest -> Kafka -> aggregate ->
PostgreSQL ledger + Redis totals -> API progress and /metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from settlement_core.db.models import LedgerEvent
from tests.support.principals import add_bank_and_operator
from tests.support.services import ServiceRunner

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(isolated_env: dict[str, str], services: ServiceRunner) -> Iterator[dict[str, Any]]:
    bank_key, operator_key = add_bank_and_operator(isolated_env["DATABASE_URL"], "e2e-bank", "E2E Bank", "e2e-operator")
    engine = create_engine(isolated_env["DATABASE_URL"])  # the test reads the ledger through it
    ingest = services.serve("ingest", "settlement_ingest")
    services.serve("aggregate", "settlement_aggregate")
    api = services.serve("api", "settlement_api")
    urls = {"ingest": ingest.url, "api": api.url}
    yield {"urls": urls, "bank_key": bank_key, "operator_key": operator_key, "engine": engine}
    engine.dispose()


def _event(n: int, category: str, amount: str, currency: str = "CNY") -> dict[str, str]:
    return {
        "event_id": f"e2e-{n}",
        "category": category,
        "amount": amount,
        "currency": currency,
        "value_date": "2020-06-15",
        "direction": "inbound",
        "counterparty_country": "SG",
    }


def test_posted_events_reach_progress_and_metrics(stack: dict[str, Any]) -> None:
    ingest = stack["urls"]["ingest"]
    api = stack["urls"]["api"]
    bank_auth = {"Authorization": f"Bearer {stack['bank_key']}"}
    events = [
        _event(1, "cross_border_rmb", "1000000.00"),
        _event(2, "cross_border_rmb", "2500000.50"),
        _event(3, "offshore", "300000.00", "USD"),
        _event(4, "factor_market", "99.99"),
    ]
    for event in events:
        response = httpx.post(f"{ingest}/v1/events", json=event, headers=bank_auth, timeout=10)
        assert response.status_code == 202, response.text
        assert response.json() == {"event_id": event["event_id"], "status": "accepted"}
    # A retried request is acknowledged as a duplicate and must not be counted twice.
    retry = httpx.post(f"{ingest}/v1/events", json=events[0], headers=bank_auth, timeout=10)
    assert retry.status_code == 200
    assert retry.json()["duplicate"] is True

    expected = {
        "cross_border_rmb": Decimal("3500000.50"),
        "offshore": Decimal("300000.00"),
        "factor_market": Decimal("99.99"),
    }
    operator_auth = {"Authorization": f"Bearer {stack['operator_key']}"}
    deadline = time.monotonic() + 60
    settled: dict[str, Decimal] = {}
    while time.monotonic() < deadline:
        body = httpx.get(f"{api}/v1/progress", params={"as_of": "2020-12-31"}, headers=operator_auth, timeout=10).json()
        settled = {t["code"]: Decimal(t["settled"]) for t in body["targets"]}
        if all(settled.get(code) == amount for code, amount in expected.items()):
            break
        time.sleep(0.5)
    assert {code: settled.get(code) for code in expected} == expected
    assert len(settled) == 6
    assert settled["mnc_headquarters"] == Decimal(0)

    with Session(stack["engine"]) as session:
        assert session.scalar(select(func.count()).select_from(LedgerEvent)) == 4

    metrics = httpx.get(f"{api}/metrics", timeout=10).text
    assert 'settlement_settled_cny{period="2020",target="cross_border_rmb"} 3.5000005e+06' in metrics
    assert 'settlement_settled_usd{period="2020",target="offshore"} 300000.0' in metrics
