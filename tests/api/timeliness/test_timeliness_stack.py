"""A bank's timeliness on the real stack (issue 25 step 2): events posted to a real ingest,
counted by the real aggregator into PostgreSQL, read through a real API process. Every
expected figure comes from tests/support/working_days.py applied to the value dates posted
and the arrival instants PostgreSQL stored, never from the service's own computation.

One event of January 2020 is then given an arrival of Monday 2020-02-03 09:00 in Shanghai
(the ledger is this test's own database): it was due on Thursday 23 January, and China's
calendar (makeup working day on Sunday the 19th, Spring Festival extended to 2 February)
makes it one working day late, where Monday to Friday would say seven."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support.pipeline import Pipeline, serve_pipeline
from tests.support.services import ServiceRunner
from tests.support.working_days import working_days_late

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def stack(isolated_env: dict[str, str], services: ServiceRunner) -> Pipeline:
    return serve_pipeline(
        isolated_env, services, [("tmlA", "Timely Bank"), ("tmlB", "Other Bank")], {"PUBLIC_MODE": "true"}
    )


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def post(stack: Pipeline, client: httpx.Client, event_id: str, value_date: date, reverses: str | None = None) -> None:
    body = {
        "event_id": event_id,
        "category": "cross_border_rmb",
        "amount": "100.00",
        "currency": "CNY",
        "value_date": value_date.isoformat(),
        "direction": "outbound",
        "counterparty_country": "SG",
    }
    if reverses is not None:
        body["reverses"] = reverses
    response = client.post(f"{stack.ingest}/v1/events", json=body, headers=stack.banks["tmlA"])
    assert response.status_code == 202, response.text


def wait_in_ledger(stack: Pipeline, event_ids: set[str]) -> dict[str, tuple[date, datetime]]:
    """value date and ingested_at of each event, once all are in the ledger."""
    engine = create_engine(stack.database_url)
    try:
        deadline = time.monotonic() + 90
        while True:
            with engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT event_id, value_date, ingested_at FROM ledger_events WHERE bank_id = 'tmlA'")
                ).all()
            found = {r[0]: (r[1], r[2]) for r in rows}
            if event_ids <= found.keys():
                return found
            assert time.monotonic() < deadline, f"not in the ledger in 90 s: {event_ids - found.keys()}"
            time.sleep(0.3)
    finally:
        engine.dispose()


def expected(rows: dict[str, tuple[date, datetime]], originals: set[str], month: tuple[int, int]) -> dict[str, object]:
    on_time = not_assessed = 0
    late: Counter[int] = Counter()
    for event_id in originals:
        value_date, ingested_at = rows[event_id]
        if (value_date.year, value_date.month) != month:
            continue
        days = working_days_late(value_date, ingested_at.astimezone(SHANGHAI).date())
        if days is None:
            not_assessed += 1
        elif days:
            late[days] += 1
        else:
            on_time += 1
    assessed = on_time + sum(late.values())
    share = Decimal(sum(late.values())) / assessed if assessed else Decimal(0)
    return {
        "events": on_time + not_assessed + sum(late.values()),
        "on_time": on_time,
        "late": sum(late.values()),
        "not_assessed": not_assessed,
        "late_share": str(share.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)),
        "max_working_days_late": max(late, default=0),
        "late_by": [{"working_days": d, "events": n} for d, n in sorted(late.items())],
    }


def figures(body: dict[str, object]) -> dict[str, object]:
    return {
        k: body[k]
        for k in ("events", "on_time", "late", "not_assessed", "late_share", "max_working_days_late", "late_by")
    }


def test_lateness_per_month_matches_the_oracle_across_the_spring_festival(
    stack: Pipeline, client: httpx.Client
) -> None:
    today = datetime.now(SHANGHAI).date()
    recent = [today - timedelta(days=n) for n in (0, 1, 3, 6, 9, 13, 20, 27, 34, 45)]
    originals = {f"TML-R{n}": d for n, d in enumerate(recent)}
    originals |= {"TML-SF-1": date(2020, 1, 17), "TML-SF-2": date(2020, 1, 17), "TML-JAN": date(2020, 1, 2)}
    for event_id, value_date in originals.items():
        post(stack, client, event_id, value_date)
    # A reversal is not a report of a settlement: it is left out; the event it reverses stays.
    post(stack, client, "TML-REV", date(2020, 1, 2), reverses="TML-JAN")
    wait_in_ledger(stack, {*originals, "TML-REV"})
    engine = create_engine(stack.database_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_events SET ingested_at = :at WHERE bank_id = 'tmlA' AND event_id = 'TML-SF-1'"),
            {"at": datetime(2020, 2, 3, 9, 0, tzinfo=SHANGHAI)},
        )
    engine.dispose()
    rows = wait_in_ledger(stack, {*originals, "TML-REV"})

    months = {(d.year, d.month) for d in originals.values()}
    for year, month in sorted(months):
        period = f"{year:04d}-{month:02d}"
        response = client.get(
            f"{stack.api}/v1/banks/tmlA/timeliness", params={"period": period}, headers=stack.banks["tmlA"]
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["bank_id"], body["period"], body["timezone"]) == ("tmlA", period, "Asia/Shanghai")
        assert figures(body) == expected(rows, set(originals), (year, month)), period

    january = client.get(
        f"{stack.api}/v1/banks/tmlA/timeliness", params={"period": "2020-01"}, headers=stack.banks["tmlA"]
    )
    late_by = {e["working_days"]: e["events"] for e in january.json()["late_by"]}
    assert late_by.get(1) == 1  # TML-SF-1: one working day late, not seven
    # Each ledger row shows its own lateness; a reversal has none.
    row = client.get(f"{stack.api}/v1/events/TML-SF-1", headers=stack.banks["tmlA"]).json()["ledger"]
    assert (row["due"], row["working_days_late"]) == ("2020-01-23", 1)
    for event_id, value_date in originals.items():
        row = client.get(f"{stack.api}/v1/events/{event_id}", headers=stack.banks["tmlA"]).json()["ledger"]
        arrived = rows[event_id][1].astimezone(SHANGHAI).date()
        assert row["working_days_late"] == working_days_late(value_date, arrived), event_id
    reversal = client.get(f"{stack.api}/v1/events/TML-REV", headers=stack.banks["tmlA"]).json()["ledger"]
    assert (reversal["due"], reversal["working_days_late"]) == (None, None)
    # An operator reads the same figures, and the read is audited.
    as_operator = client.get(
        f"{stack.api}/v1/banks/tmlA/timeliness", params={"period": "2020-01"}, headers=stack.operator
    )
    assert as_operator.status_code == 200
    assert figures(as_operator.json()) == figures(january.json())
    audit = client.get(f"{stack.api}/v1/audit", headers=stack.operator).json()
    assert any(e["subject"] == "/v1/banks/tmlA/timeliness" for e in audit["entries"])


def test_only_the_bank_and_operators_read_it_and_bad_input_is_a_problem(stack: Pipeline, client: httpx.Client) -> None:
    url = f"{stack.api}/v1/banks/tmlA/timeliness"
    cases = [
        (client.get(url, params={"period": "2020-01"}), 401, None),  # public mode does not open it
        (client.get(url, params={"period": "2020-01"}, headers=stack.banks["tmlB"]), 404, None),
        (
            client.get(f"{stack.api}/v1/banks/nobody/timeliness", params={"period": "2020-01"}, headers=stack.operator),
            404,
            None,
        ),
        (client.get(url, headers=stack.banks["tmlA"]), 422, "#/query/period"),
        (client.get(url, params={"period": "2020-13"}, headers=stack.banks["tmlA"]), 422, "#/query/period"),
        (client.get(url, params={"period": "1999-01"}, headers=stack.banks["tmlA"]), 422, "#/query/period"),
        (
            client.get(
                f"{stack.api}/v1/banks/bad%20id/timeliness", params={"period": "2020-01"}, headers=stack.banks["tmlA"]
            ),
            422,
            "#/path/bank_id",
        ),
    ]
    for response, status, pointer in cases:
        assert response.status_code == status, (response.request.url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        if pointer is not None:
            assert pointer in {e["pointer"] for e in response.json()["errors"]}, response.text
