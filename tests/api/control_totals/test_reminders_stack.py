"""Reminders on the real stack (issue 25 step 6): GET /v1/operator/control-totals/missing
lists the control totals active banks owe and have not declared, judged here from what the
test posted and declared, with due dates and working days overdue from
tests/support/working_days.py (never from the service's own computation).

Bank rmdA has events valued January and March 2020 and declares January: it owes March.
Bank rmdB reported nothing but was registered (the test sets it) on 2026-09-15: it owes every
ended month from September 2026. Bank rmdC has events but is inactive: it owes nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support.pipeline import Pipeline, serve_pipeline
from tests.support.services import ServiceRunner
from tests.support.working_days import control_totals_due, working_days_between

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def stack(isolated_env: dict[str, str], services: ServiceRunner) -> Pipeline:
    return serve_pipeline(
        isolated_env,
        services,
        [("rmdA", "Reminded Bank A"), ("rmdB", "Reminded Bank B"), ("rmdC", "Inactive Bank C")],
        {"PUBLIC_MODE": "false"},
    )


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def post(stack: Pipeline, client: httpx.Client, headers: dict[str, str], event_id: str, value_date: date) -> None:
    body = {
        "event_id": event_id,
        "category": "cross_border_rmb",
        "amount": "250.00",
        "currency": "CNY",
        "value_date": value_date.isoformat(),
        "direction": "outbound",
        "counterparty_country": "SG",
    }
    response = client.post(f"{stack.ingest}/v1/events", json=body, headers=headers)
    assert response.status_code == 202, response.text


def wait_counted(stack: Pipeline, client: httpx.Client, headers: dict[str, str], event_ids: list[str]) -> None:
    deadline = time.monotonic() + 90
    pending = set(event_ids)
    while pending:
        assert time.monotonic() < deadline, f"not counted in 90 s: {pending}"
        for event_id in list(pending):
            if client.get(f"{stack.api}/v1/events/{event_id}", headers=headers).json().get("status") == "counted":
                pending.discard(event_id)
        time.sleep(0.3)


def expected_row(bank_id: str, year: int, month: int, today: date) -> dict[str, Any]:
    due = control_totals_due(year, month)
    row: dict[str, Any] = {
        "bank_id": bank_id,
        "period": f"{year:04d}-{month:02d}",
        "due": None if due is None else due.isoformat(),
        "state": "no_due_date",
        "working_days_overdue": 0,
    }
    if due is not None and due >= today:
        row["state"] = "due"
    elif due is not None:
        overdue = working_days_between(due, today)
        if overdue is not None:  # else today is in a year without a notice: no_due_date
            row |= {"state": "overdue", "working_days_overdue": overdue}
    return row


def ended_months_from(year: int, month: int, today: date) -> list[tuple[int, int]]:
    months = []
    while (year, month) < (today.year, today.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def test_missing_control_totals_are_listed_with_their_due_dates(
    stack: Pipeline, client: httpx.Client, isolated_env: dict[str, str]
) -> None:
    post(stack, client, stack.banks["rmdA"], "RMD-JAN", date(2020, 1, 10))
    post(stack, client, stack.banks["rmdA"], "RMD-MAR", date(2020, 3, 10))
    post(stack, client, stack.banks["rmdC"], "RMD-C", date(2020, 2, 10))
    wait_counted(stack, client, stack.banks["rmdA"], ["RMD-JAN", "RMD-MAR"])
    wait_counted(stack, client, stack.banks["rmdC"], ["RMD-C"])
    declared = client.post(
        f"{stack.api}/v1/control-totals",
        json={
            "period": "2020-01",
            "lines": [{"target": "cross_border_rmb", "currency": "CNY", "count": 1, "amount": "250.00"}],
        },
        headers=stack.banks["rmdA"],
    )
    assert declared.status_code == 201, declared.text
    engine = create_engine(isolated_env["DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE banks SET created_at = :at WHERE bank_id = 'rmdB'"),
            {"at": datetime(2026, 9, 15, 10, 0, tzinfo=SHANGHAI)},
        )
        # Registered now: they owe nothing for the months before, only for those with events.
        conn.execute(
            text("UPDATE banks SET created_at = now() WHERE bank_id IN ('rmdA', 'rmdC')"),
        )
        conn.execute(text("UPDATE banks SET active = false WHERE bank_id = 'rmdC'"))
    engine.dispose()

    response = client.get(
        f"{stack.api}/v1/operator/control-totals/missing", params={"since": "2020-01"}, headers=stack.operator
    )
    assert response.status_code == 200, response.text
    body = response.json()
    today = date.fromisoformat(body["today"])
    assert abs((today - datetime.now(SHANGHAI).date()).days) <= 1
    expected = [expected_row("rmdA", 2020, 3, today)]
    expected += [expected_row("rmdB", y, m, today) for y, m in ended_months_from(2026, 9, today)]
    expected.sort(key=lambda r: (-r["working_days_overdue"], r["bank_id"], r["period"]))
    assert [r for r in body["missing"] if r["bank_id"].startswith("rmd")] == expected
    assert body["since"] == "2020-01"

    # Declaring March takes it off the list.
    client.post(
        f"{stack.api}/v1/control-totals",
        json={
            "period": "2020-03",
            "lines": [{"target": "cross_border_rmb", "currency": "CNY", "count": 1, "amount": "250.00"}],
        },
        headers=stack.banks["rmdA"],
    )
    again = client.get(
        f"{stack.api}/v1/operator/control-totals/missing", params={"since": "2020-01"}, headers=stack.operator
    ).json()
    assert not [r for r in again["missing"] if r["bank_id"] == "rmdA"]


def test_only_operators_read_reminders_and_bad_input_is_a_problem(stack: Pipeline, client: httpx.Client) -> None:
    url = f"{stack.api}/v1/operator/control-totals/missing"
    for response, status in [
        (client.get(url), 401),
        (client.get(url, headers=stack.banks["rmdA"]), 403),
        (client.get(url, params={"since": "2020-13"}, headers=stack.operator), 422),
        (client.get(url, params={"since": "20"}, headers=stack.operator), 422),
    ]:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    bad = client.get(url, params={"since": "2020-13"}, headers=stack.operator).json()
    assert {e["pointer"] for e in bad["errors"]} == {"#/query/since"}
    audit = client.get(f"{stack.api}/v1/audit", headers=stack.operator).json()
    assert any(e["subject"] == "/v1/operator/control-totals/missing" for e in audit["entries"])
