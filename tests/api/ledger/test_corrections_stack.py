"""Corrections on the real stack (issue 25 step 4): events and corrections posted to a real
ingest, applied by the real aggregator to PostgreSQL and Redis, read through a real API.
Every expected figure is computed here with Decimal from what the test posted (`Books`),
never from the service's own code; the quality measure from the rows the test knows it sent
and the tolerance read straight from seeds/quality.yaml.

Bank corA reports forty January 2020 events, then corrects one (WRONG_AMOUNT), corrects the
correction (OTHER, with a text, to another day), and withdraws a duplicate submission by a
reversal with reason DUPLICATE. Bad corrections are refused at intake with pointers and
change nothing; corrections the ledger cannot apply are dead-lettered like reversals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.support.pipeline import Pipeline, serve_pipeline
from tests.support.services import ServiceRunner

pytestmark = pytest.mark.integration

WEIGHTS = yaml.safe_load((Path(__file__).resolve().parents[3] / "seeds" / "quality.yaml").read_text(encoding="utf-8"))
RMB = "cross_border_rmb"
JANUARY = [date(2020, 1, 2) + timedelta(days=n % 28) for n in range(40)]
ORIGINALS = [f"COR-{n:02d}" for n in range(40)]


@pytest.fixture(scope="module")
def stack(isolated_env: dict[str, str], services: ServiceRunner) -> Pipeline:
    return serve_pipeline(isolated_env, services, [("corA", "Correcting Bank"), ("corB", "Other Bank")], {})


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


def event(event_id: str, amount: str, value_date: date, **extra: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "category": RMB,
        "amount": amount,
        "currency": "CNY",
        "value_date": value_date.isoformat(),
        "direction": "outbound",
        "counterparty_country": "SG",
        **extra,
    }


@dataclass
class Books:
    """The bank's January as the specification says it counts: an event replaced by a
    reversal or a correction no longer counts; a correction counts its own figure."""

    events: dict[str, dict[str, Any]] = field(default_factory=dict)

    def record(self, body: dict[str, Any]) -> None:
        self.events[body["event_id"]] = body

    def by_day(self) -> dict[str, Decimal]:
        replaced = {b.get("corrects") or b.get("reverses") for b in self.events.values()} - {None}
        days: dict[str, Decimal] = {}
        for body in self.events.values():
            if body.get("reverses") or body["event_id"] in replaced:
                continue
            days[body["value_date"]] = days.get(body["value_date"], Decimal(0)) + Decimal(body["amount"])
        return {d: v for d, v in days.items() if v}

    def corrections_measure(self) -> Decimal:
        """(reversals + corrections) / events of the month, by their own value dates."""
        reversals = sum(1 for b in self.events.values() if b.get("reverses"))
        corrections = sum(1 for b in self.events.values() if b.get("corrects"))
        events = sum(1 for b in self.events.values() if not b.get("reverses"))
        return Decimal(reversals + corrections) / Decimal(events)


BOOKS = Books()


def send(stack: Pipeline, client: httpx.Client, body: dict[str, Any], bank: str = "corA") -> None:
    response = client.post(f"{stack.ingest}/v1/events", json=body, headers=stack.banks[bank])
    assert response.status_code == 202, response.text
    if bank == "corA":
        BOOKS.record(body)


def status_of(stack: Pipeline, client: httpx.Client, event_id: str, bank: str = "corA") -> dict[str, Any]:
    response = client.get(f"{stack.api}/v1/events/{event_id}", headers=stack.banks[bank])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_statuses(stack: Pipeline, client: httpx.Client, expected: dict[str, str], bank: str = "corA") -> None:
    deadline = time.monotonic() + 90
    pending = dict(expected)
    while pending:
        assert time.monotonic() < deadline, f"not applied in 90 s: {pending}"
        for event_id, status in list(pending.items()):
            if status_of(stack, client, event_id, bank).get("status") == status:
                del pending[event_id]
        time.sleep(0.3)


def totals_by_day(stack: Pipeline, client: httpx.Client) -> dict[str, Decimal]:
    response = client.get(
        f"{stack.api}/v1/banks/corA/totals",
        params={"category": RMB, "granularity": "day", "from": "2020-01-01", "to": "2020-01-31"},
        headers=stack.banks["corA"],
    )
    assert response.status_code == 200, response.text
    return {
        p["period"]: Decimal(p["by_currency"]["CNY"])
        for p in response.json()["points"]
        if Decimal(p["by_currency"].get("CNY", "0"))
    }


def corrections_component(stack: Pipeline, client: httpx.Client) -> dict[str, Any]:
    response = client.get(
        f"{stack.api}/v1/banks/corA/quality", params={"period": "2020-01"}, headers=stack.banks["corA"]
    )
    assert response.status_code == 200, response.text
    components: list[dict[str, Any]] = response.json()["components"]
    [component] = [c for c in components if c["name"] == "corrections"]
    six = Decimal("0.000001")
    measure = BOOKS.corrections_measure()
    score = max(Decimal(0), 1 - measure / Decimal(WEIGHTS["corrections"]["tolerance"]))
    assert component["measure"] == str(measure.quantize(six, rounding=ROUND_HALF_EVEN))
    assert component["score"] == str(score.quantize(six, rounding=ROUND_HALF_EVEN))
    return component


def ledger_and_dlq_rows(stack: Pipeline) -> tuple[int, int]:
    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        ledger = conn.execute(text("SELECT count(*) FROM ledger_events WHERE bank_id LIKE 'cor%'")).scalar_one()
        dlq = conn.execute(text("SELECT count(*) FROM dlq_events WHERE bank_id LIKE 'cor%'")).scalar_one()
    engine.dispose()
    return int(ledger), int(dlq)


def test_a_correction_replaces_its_original_and_the_chain_shows_both_ways(
    stack: Pipeline, client: httpx.Client
) -> None:
    batch = [event(e, f"{100 + n}.{n:02d}", JANUARY[n]) for n, e in enumerate(ORIGINALS)]
    response = client.post(f"{stack.ingest}/v1/events/batch", json={"events": batch}, headers=stack.banks["corA"])
    assert response.status_code == 200, response.text
    for body in batch:
        BOOKS.record(body)
    wait_statuses(stack, client, dict.fromkeys(ORIGINALS, "counted"))
    assert totals_by_day(stack, client) == BOOKS.by_day()
    before = corrections_component(stack, client)
    assert before["measure"] == "0.000000"

    # A correction with a reason: COR-05 (105.05) was really 120.50.
    send(stack, client, event("COR-05-C1", "120.50", JANUARY[5], corrects="COR-05", reason_code="WRONG_AMOUNT"))
    wait_statuses(stack, client, {"COR-05": "corrected", "COR-05-C1": "counted"})
    assert totals_by_day(stack, client) == BOOKS.by_day()
    day = JANUARY[5].isoformat()
    assert BOOKS.by_day()[day] - Decimal("120.50") + Decimal("105.05") == sum(
        Decimal(b["amount"]) for b in batch if b["value_date"] == day
    )
    original = status_of(stack, client, "COR-05")
    assert original["corrected_by"] == {
        "event_id": "COR-05-C1",
        "kind": "correction",
        "reason_code": "WRONG_AMOUNT",
        "reason_text": None,
    }
    assert original["replaced_by"] == original["corrected_by"]
    assert original["reversed_by"] is None
    assert original["ledger"]["ledger_status"] == "reversed"
    correction = status_of(stack, client, "COR-05-C1")
    assert (correction["ledger"]["corrects"], correction["ledger"]["reason_code"]) == ("COR-05", "WRONG_AMOUNT")
    assert (correction["ledger"]["amount"], correction["corrected_by"]) == ("120.50", None)
    # The corrections component moved: 1 correction in 41 events of the month.
    after_one = corrections_component(stack, client)
    assert Decimal(after_one["score"]) < Decimal(before["score"])

    # A correction of the correction: another day, reason OTHER with its text.
    note = "value date was the booking date; 清算日 corrected"
    send(
        stack,
        client,
        event("COR-05-C2", "121.00", JANUARY[5] + timedelta(days=1), corrects="COR-05-C1", reason_code="OTHER")
        | {"reason_text": note},
    )
    wait_statuses(stack, client, {"COR-05-C1": "corrected", "COR-05-C2": "counted"})
    assert status_of(stack, client, "COR-05-C1")["corrected_by"] == {
        "event_id": "COR-05-C2",
        "kind": "correction",
        "reason_code": "OTHER",
        "reason_text": note,
    }
    assert status_of(stack, client, "COR-05-C2")["ledger"]["corrects"] == "COR-05-C1"
    assert status_of(stack, client, "COR-05")["corrected_by"]["event_id"] == "COR-05-C1"  # the chain's first link

    # A duplicate submission is withdrawn by a reversal carrying the reason DUPLICATE.
    send(stack, client, event("COR-07-R", batch[7]["amount"], JANUARY[7], reverses="COR-07", reason_code="DUPLICATE"))
    wait_statuses(stack, client, {"COR-07": "reversed", "COR-07-R": "counted"})
    withdrawn = status_of(stack, client, "COR-07")
    assert withdrawn["reversed_by"] == "COR-07-R"
    assert withdrawn["replaced_by"] == {
        "event_id": "COR-07-R",
        "kind": "reversal",
        "reason_code": "DUPLICATE",
        "reason_text": None,
    }
    assert totals_by_day(stack, client) == BOOKS.by_day()
    corrections_component(stack, client)  # 1 reversal + 2 corrections in 42 events


BAD = [
    ({"corrects": "COR-01"}, {"#/reason_code"}),
    ({"corrects": "COR-01", "reason_code": "TYPO"}, {"#/reason_code"}),
    ({"corrects": "COR-01", "reason_code": "DUPLICATE"}, {"#/reason_code"}),
    ({"corrects": "COR-01", "reason_code": "OTHER"}, {"#/reason_text"}),
    ({"corrects": "COR-01", "reason_code": "OTHER", "reason_text": "x" * 501}, {"#/reason_text"}),
    ({"corrects": "COR-01", "reason_code": "OTHER", "reason_text": "line\nforged"}, {"#/reason_text"}),
    ({"corrects": "COR-01", "reverses": "COR-01", "reason_code": "WRONG_AMOUNT"}, {"#/corrects"}),
    ({"corrects": "BAD-SELF", "reason_code": "WRONG_AMOUNT"}, {"#/corrects"}),
    ({"corrects": "no spaces", "reason_code": "WRONG_AMOUNT"}, {"#/corrects"}),
    ({"reason_code": "WRONG_AMOUNT"}, {"#/reason_code"}),
    ({"reason_text": "why"}, {"#/reason_text"}),
    ({"corrects": "COR-01", "reason_code": ["WRONG_AMOUNT"]}, {"#/reason_code"}),
]


@pytest.mark.parametrize(("extra", "expected"), BAD, ids=[f"bad-{n}" for n in range(len(BAD))])
def test_bad_corrections_are_problems_with_pointers_and_change_nothing(
    stack: Pipeline, client: httpx.Client, extra: dict[str, Any], expected: set[str]
) -> None:
    rows = ledger_and_dlq_rows(stack)
    body = event("BAD-SELF", "1.00", JANUARY[0]) | extra
    single = client.post(f"{stack.ingest}/v1/events", json=body, headers=stack.banks["corA"])
    assert single.status_code == 422, single.text
    assert single.headers["content-type"].startswith("application/problem+json")
    assert {e["pointer"] for e in single.json()["errors"]} == expected, single.text
    # In a batch the item is rejected with the same problem, its pointers under /events/0.
    batch = client.post(f"{stack.ingest}/v1/events/batch", json={"events": [body]}, headers=stack.banks["corA"])
    assert batch.status_code == 200, batch.text
    [result] = batch.json()["results"]
    assert result["status"] == "rejected", batch.text
    assert {e["pointer"] for e in result["problem"]["errors"]} == {p.replace("#", "#/events/0") for p in expected}, (
        batch.text
    )
    time.sleep(0.5)
    assert ledger_and_dlq_rows(stack) == rows
    assert status_of(stack, client, "BAD-SELF")["status"] == "unknown"


def test_corrections_the_ledger_cannot_apply_are_dead_lettered_like_reversals(
    stack: Pipeline, client: httpx.Client
) -> None:
    before = totals_by_day(stack, client)
    cases = {
        # An event the ledger does not hold: a correction cannot wait for it.
        "DLQ-UNKNOWN": ("corA", {"corrects": "NEVER-SENT"}, "unknown_original"),
        # Another bank's event: for corB, COR-01 is unknown.
        "DLQ-OTHER-BANK": ("corB", {"corrects": "COR-01"}, "unknown_original"),
        # Already corrected (COR-05 by COR-05-C1) or reversed (COR-07).
        "DLQ-TWICE": ("corA", {"corrects": "COR-05"}, "already_reversed"),
        "DLQ-REVERSED": ("corA", {"corrects": "COR-07"}, "already_reversed"),
        # A reversal has no figure of its own to correct.
        "DLQ-OF-REVERSAL": ("corA", {"corrects": "COR-07-R"}, "reversal_mismatch"),
    }
    for event_id, (bank, extra, _) in cases.items():
        body = event(event_id, "9.99", JANUARY[1], reason_code="WRONG_AMOUNT", **extra)
        response = client.post(f"{stack.ingest}/v1/events", json=body, headers=stack.banks[bank])
        assert response.status_code == 202, response.text
    for event_id, (bank, _, reason) in cases.items():
        wait_statuses(stack, client, {event_id: "dlq"}, bank)
        assert [d["reason"] for d in status_of(stack, client, event_id, bank)["dlq"]] == [reason]
    assert totals_by_day(stack, client) == before == BOOKS.by_day()
    assert status_of(stack, client, "COR-05")["corrected_by"]["event_id"] == "COR-05-C1"
