"""The data-quality score on the real stack (issue 25 step 5): events posted to a real ingest,
counted by the real aggregator into PostgreSQL, scored by a real API process. Every expected
component is computed here from what the test posted and declared, the arrival instants
PostgreSQL stored, the weights read straight from seeds/quality.yaml, and working days from
tests/support/working_days.py: never from the service's own code.

Bank qlyA reports twenty events valued in January 2020. One of them is given an arrival of
2020-01-15, on time (due 2020-01-17), the others arrived now, years late. The score moves as
the month's facts change: control totals missing (0 of 20 points), then declared and
balanced (20), then a reversal opens a break (0 again), then a correction with a reason
(WRONG_AMOUNT, issue 25 step 4) adds one more replacement and one more event of the month."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from tests.support.pipeline import Pipeline, serve_pipeline
from tests.support.services import ServiceRunner
from tests.support.working_days import is_working_day, working_days_late

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEIGHTS = yaml.safe_load((Path(__file__).resolve().parents[3] / "seeds" / "quality.yaml").read_text(encoding="utf-8"))
SILENT_ALLOWANCE = 3  # SILENT_BUSINESS_DAYS, the API's default
SCRAPE_TOKEN = "scrape-token-for-quality-tests"
EVENTS = [f"QLY-{n:02d}" for n in range(20)]
VALUE_DATES = {event_id: date(2020, 1, 6) + timedelta(days=n) for n, event_id in enumerate(EVENTS)}
ON_TIME = "QLY-04"  # valued Friday 2020-01-10, due Friday 01-17
ON_TIME_ARRIVAL = datetime(2020, 1, 15, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def stack(isolated_env: dict[str, str], services: ServiceRunner) -> Pipeline:
    return serve_pipeline(
        isolated_env,
        services,
        [("qlyA", "Quality Bank"), ("qlyB", "Other Bank")],
        {"PUBLIC_MODE": "true", "METRICS_SCRAPE_TOKEN": SCRAPE_TOKEN, "COMPLETENESS_CACHE_SECONDS": "0"},
    )


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


def post(stack: Pipeline, client: httpx.Client, body: dict[str, Any]) -> None:
    response = client.post(f"{stack.ingest}/v1/events", json=body, headers=stack.banks["qlyA"])
    assert response.status_code == 202, response.text


def event(event_id: str, value_date: date, **extra: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "category": "cross_border_rmb",
        "amount": "100.00",
        "currency": "CNY",
        "value_date": value_date.isoformat(),
        "direction": "outbound",
        "counterparty_country": "SG",
        **extra,
    }


def wait_statuses(stack: Pipeline, client: httpx.Client, expected: dict[str, str]) -> None:
    deadline = time.monotonic() + 90
    pending = dict(expected)
    while pending:
        assert time.monotonic() < deadline, f"not applied in 90 s: {pending}"
        for event_id, status in list(pending.items()):
            if (
                client.get(f"{stack.api}/v1/events/{event_id}", headers=stack.banks["qlyA"]).json().get("status")
                == status
            ):
                del pending[event_id]
        time.sleep(0.3)


def arrivals(stack: Pipeline) -> dict[str, datetime]:
    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT event_id, ingested_at FROM ledger_events WHERE bank_id = 'qlyA'")).all()
    engine.dispose()
    return {r[0]: r[1] for r in rows}


def rate_score(part: int, whole: int, tolerance: str) -> Decimal:
    value = Decimal(part) / Decimal(whole) if whole else Decimal(0)
    return max(Decimal(0), 1 - value / Decimal(tolerance))


def expected_components(
    stack: Pipeline, reversals: int, control_totals: Decimal, corrections: dict[str, date] | None = None
) -> dict[str, Decimal]:
    """`corrections`: the corrections sent, by event id, with their value dates: each is one
    more event of the month (assessed for timeliness) and one more replacement."""
    arrived = arrivals(stack)
    corrections = corrections or {}
    valued = VALUE_DATES | corrections
    reported = [*EVENTS, *corrections]
    lateness = [working_days_late(valued[e], arrived[e].astimezone(SHANGHAI).date()) for e in reported]
    assessed = [days for days in lateness if days is not None]
    on_time = Decimal(sum(days == 0 for days in assessed)) / len(assessed) if assessed else Decimal(1)
    arrival_days = {a.astimezone(SHANGHAI).date() for a in arrived.values()}
    january = [date(2020, 1, 1) + timedelta(days=n) for n in range(31)]
    working = [d for d in january if is_working_day(d)]
    longest = run = 0
    for day in working:
        run = 0 if day in arrival_days else run + 1
        longest = max(longest, run)
    silence = 1 - Decimal(max(0, longest - SILENT_ALLOWANCE)) / len(working)
    return {
        "timeliness": on_time,
        "rejections": Decimal(1),  # no dead letters
        "corrections": rate_score(reversals + len(corrections), len(reported), WEIGHTS["corrections"]["tolerance"]),
        "control_totals": control_totals,
        "unknown_countries": Decimal(1),
        "silence": max(Decimal(0), silence),
    }


def check_score(stack: Pipeline, client: httpx.Client, expected: dict[str, Decimal]) -> dict[str, Any]:
    response = client.get(
        f"{stack.api}/v1/banks/qlyA/quality", params={"period": "2020-01"}, headers=stack.banks["qlyA"]
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    six = Decimal("0.000001")
    got = {c["name"]: c["score"] for c in body["components"]}
    assert got == {n: str(v.quantize(six, rounding=ROUND_HALF_EVEN)) for n, v in expected.items()}
    assert {c["name"]: c["weight"] for c in body["components"]} == {n: WEIGHTS[n]["weight"] for n in expected}
    total = sum((WEIGHTS[n]["weight"] * v for n, v in expected.items()), Decimal(0))
    assert body["score"] == str(total.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))
    assert body["alert_below"] == WEIGHTS["alert_below"]
    return body


def declare(stack: Pipeline, client: httpx.Client, count: int) -> None:
    response = client.post(
        f"{stack.api}/v1/control-totals",
        json={
            "period": "2020-01",
            "lines": [{"target": "cross_border_rmb", "currency": "CNY", "count": count, "amount": f"{100 * count}.00"}],
        },
        headers=stack.banks["qlyA"],
    )
    assert response.status_code in (200, 201), response.text


def test_the_score_moves_with_the_months_facts(stack: Pipeline, client: httpx.Client) -> None:
    for event_id in EVENTS:
        post(stack, client, event(event_id, VALUE_DATES[event_id]))
    wait_statuses(stack, client, dict.fromkeys(EVENTS, "counted"))
    engine = create_engine(stack.database_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_events SET ingested_at = :at WHERE bank_id = 'qlyA' AND event_id = :id"),
            {"at": ON_TIME_ARRIVAL, "id": ON_TIME},
        )
    engine.dispose()

    # January 2020's control totals were due 2020-02-14 and were never declared.
    first = check_score(stack, client, expected_components(stack, reversals=0, control_totals=Decimal(0)))
    assert {c["name"]: c["measure"] for c in first["components"]}["control_totals"] == "missing"

    declare(stack, client, 20)
    second = check_score(stack, client, expected_components(stack, reversals=0, control_totals=Decimal(1)))
    assert Decimal(second["score"]) - Decimal(first["score"]) == Decimal(WEIGHTS["control_totals"]["weight"])

    # A reversal: one correction in twenty events, and the declaration no longer balances.
    post(stack, client, event("QLY-REV", VALUE_DATES["QLY-07"], reverses="QLY-07"))
    wait_statuses(stack, client, {"QLY-07": "reversed", "QLY-REV": "counted"})
    third = check_score(stack, client, expected_components(stack, reversals=1, control_totals=Decimal(0)))
    assert {c["name"]: c["measure"] for c in third["components"]}["control_totals"] == "open_break"

    # A correction with a reason: QLY-08 was 150.00, not 100.00. Now 2 replacements in 21
    # events, the correction (arrived now, years late) assessed like any event.
    correction = event(
        "QLY-08-C", VALUE_DATES["QLY-08"], corrects="QLY-08", reason_code="WRONG_AMOUNT", amount="150.00"
    )
    post(stack, client, correction)
    wait_statuses(stack, client, {"QLY-08": "corrected", "QLY-08-C": "counted"})
    corrected = {"QLY-08-C": VALUE_DATES["QLY-08"]}
    fourth = check_score(
        stack, client, expected_components(stack, reversals=1, control_totals=Decimal(0), corrections=corrected)
    )
    measures = {c["name"]: c["measure"] for c in fourth["components"]}
    assert measures["corrections"] == str((Decimal(2) / 21).quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN))
    assert Decimal(fourth["score"]) < Decimal(third["score"])
    third = fourth

    # The operator's league shows the same score, and the read is audited.
    league = client.get(f"{stack.api}/v1/operator/quality", params={"period": "2020-01"}, headers=stack.operator)
    assert league.status_code == 200, league.text
    rows = {r["bank_id"]: r for r in league.json()["banks"]}
    assert rows["qlyA"]["score"] == third["score"]
    assert rows["qlyA"]["below_alert"] == (Decimal(third["score"]) < WEIGHTS["alert_below"])
    scores = [Decimal(r["score"]) for r in league.json()["banks"]]
    assert scores == sorted(scores)
    audit = client.get(f"{stack.api}/v1/audit", headers=stack.operator).json()
    assert any(e["subject"] == "/v1/operator/quality" for e in audit["entries"])


def test_the_gauge_is_per_bank_only_behind_the_scrape_token(stack: Pipeline, client: httpx.Client) -> None:
    today = datetime.now(SHANGHAI).date()
    last = today.replace(day=1) - timedelta(days=1)
    period = f"{last.year:04d}-{last.month:02d}"
    restricted = client.get(f"{stack.api}/metrics/banks", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
    assert restricted.status_code == 200, restricted.text
    families = {f.name: f for f in text_string_to_metric_families(restricted.text)}
    gauge = {s.labels["bank"]: s for s in families["settlement_bank_quality_score"].samples}
    assert {s.labels["period"] for s in gauge.values()} == {period}
    read = client.get(f"{stack.api}/v1/banks/qlyA/quality", params={"period": period}, headers=stack.operator).json()
    assert Decimal(str(gauge["qlyA"].value)) == Decimal(read["score"])
    public = {f.name: f for f in text_string_to_metric_families(client.get(f"{stack.api}/metrics").text)}
    assert "settlement_bank_quality_score" not in public
    assert public["settlement_quality_alert_below"].samples[0].value == WEIGHTS["alert_below"]
    low = sum(Decimal(str(s.value)) < WEIGHTS["alert_below"] for s in gauge.values())
    assert public["settlement_quality_low_banks"].samples[0].value == low


def test_only_the_bank_and_operators_read_it_and_bad_input_is_a_problem(stack: Pipeline, client: httpx.Client) -> None:
    url = f"{stack.api}/v1/banks/qlyA/quality"
    cases = [
        (client.get(url, params={"period": "2020-01"}), 401, None),
        (client.get(url, params={"period": "2020-01"}, headers=stack.banks["qlyB"]), 404, None),
        (
            client.get(f"{stack.api}/v1/operator/quality", params={"period": "2020-01"}, headers=stack.banks["qlyA"]),
            403,
            None,
        ),
        (client.get(url, headers=stack.banks["qlyA"]), 422, "#/query/period"),
        (client.get(url, params={"period": "2020-00"}, headers=stack.banks["qlyA"]), 422, "#/query/period"),
        (client.get(f"{stack.api}/v1/operator/quality", headers=stack.operator), 422, "#/query/period"),
    ]
    for response, status, pointer in cases:
        assert response.status_code == status, (response.request.url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        if pointer is not None:
            assert pointer in {e["pointer"] for e in response.json()["errors"]}, response.text
