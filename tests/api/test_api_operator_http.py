"""Series, league table, reporting completeness and the period report against the API app
(in this process, tests/api/inprocess.py) on the real Redis and PostgreSQL, checked against
an independent computation from the posted events (tests/api/operator_oracle.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook
from prometheus_client.parser import text_string_to_metric_families

from tests.api import operator_oracle as oracle
from tests.api.inprocess import api_client
from tests.api.ledger_state import Event, LedgerState

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
LONG_AGO = NOW - timedelta(days=12)  # at least 8 business days before today

EVENTS = (
    Event("bankA", "A1", "cross_border_rmb", Decimal("1000000.00"), "CNY", date(2020, 1, 15)),
    Event("bankA", "A2", "cross_border_rmb", Decimal("2500000.55"), "CNY", date(2020, 3, 2)),
    Event("bankA", "A3", "offshore", Decimal("300.01"), "USD", date(2020, 2, 10)),
    Event("bankA", "A4", "offshore", Decimal("1000.03"), "HKD", date(2020, 2, 10)),
    Event("bankA", "A5", "cross_border_rmb", Decimal("700000.00"), "CNY", date(2019, 3, 5)),
    Event("bankB", "B1", "cross_border_rmb", Decimal("1234567.89"), "CNY", date(2020, 3, 31)),
    Event("bankB", "B2", "cross_border_rmb", Decimal("99.99"), "CNY", date(2020, 3, 15)),
    Event("bankB", "B3", "mnc_headquarters", Decimal("5000.00"), "USD", date(2020, 6, 1)),
    Event("bankB", "B4", "offshore", Decimal("77.77"), "EUR", date(2020, 7, 7)),
    Event("bankC", "C1", "cross_border_rmb", Decimal("42.00"), "CNY", date(2020, 5, 5), processed_at=LONG_AGO),
    # Counterparty country unknown (an ISO 20022 message naming no other side).
    Event("bankE", "E1", "corporate_account", Decimal("10.00"), "CNY", date(2020, 8, 8), country="ZZ"),
)
REVERSED = (("bankB", "B2"),)
POSTED = oracle.Posted(EVENTS, frozenset(REVERSED))
AS_OF_DATES = ("2020-03-15", "2020-07-31", "2020-12-31")


@dataclass(frozen=True, slots=True)
class Api:
    client: httpx.Client
    operator: dict[str, str]
    bank: dict[str, str]

    def get(self, path: str, *, headers: Mapping[str, str] | None = None, **params: str) -> httpx.Response:
        return self.send(path, params, headers)

    def send(self, path: str, params: Mapping[str, str], headers: Mapping[str, str] | None = None) -> httpx.Response:
        sent = self.operator if headers is None else headers
        return self.client.get(path, params=params, headers=sent)

    # JSON bodies are `Any`: the assertions of the tests are what checks their shape.
    def json(self, path: str, **params: str) -> dict[str, Any]:
        response = self.send(path, params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="module")
def api(isolated_env: dict[str, str]) -> Iterator[Api]:
    state = LedgerState(isolated_env)
    operator = state.add_operator("ops")
    bank_key = ""
    for bank in ("bankA", "bankB", "bankC", "bankD", "bankE"):
        key = state.add_bank(bank)
        bank_key = bank_key or key
    by_id = {(e.bank_id, e.event_id): e for e in EVENTS}
    for event in EVENTS:
        state.count(event)
    for bank, event_id in REVERSED:
        state.reverse(by_id[(bank, event_id)], f"{event_id}-R")
    state.dead_letter("bankE", "E2", "schema")
    state.close()
    settings = {
        "FX_CACHE_SECONDS": "0",
        "PUBLIC_MODE": "false",
        "SILENT_BUSINESS_DAYS": "3",
        "COMPLETENESS_CACHE_SECONDS": "0",
        "METRICS_SCRAPE_TOKEN": "scrape-token-for-tests",
    }
    with api_client({**isolated_env, **settings}) as client:
        yield Api(client, {"Authorization": f"Bearer {operator}"}, {"Authorization": f"Bearer {bank_key}"})


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def money(value: Decimal) -> str:
    return str(value.quantize(oracle.CENT))


# ----------------------------------------------------------------------------- series
@pytest.mark.parametrize("code", ["cross_border_rmb", "offshore"])
@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_day_series_equals_posted_events(api: Api, code: str, as_of: str) -> None:
    body = api.json(f"/v1/progress/{code}/series", period="2020", granularity="day", as_of=as_of)
    expected = oracle.day_series(POSTED, code, date.fromisoformat(as_of))
    points = body["points"]
    assert isinstance(points, list)
    assert [p["period"] for p in points] == [d.isoformat() for d, _, _ in expected]
    for point, (day, settled, cumulative) in zip(points, expected, strict=True):
        assert point["settled"] == (None if settled is None else money(settled)), day
        assert point["cumulative"] == (None if cumulative is None else money(cumulative)), day
    last = [c for _, _, c in expected if c is not None][-1]
    assert body["settled"] == money(last)
    assert body["as_of"] == as_of


def test_pace_line_is_target_times_elapsed_fraction(api: Api) -> None:
    body = api.json("/v1/progress/cross_border_rmb/series", granularity="day", as_of="2020-03-15")
    points = body["points"]
    assert isinstance(points, list)
    # 600,000,000,000 x day / 366, rounded half-even to the fen.
    assert points[0]["expected"] == money(Decimal(600_000_000_000) / 366)
    assert points[74]["expected"] == money(Decimal(600_000_000_000) * 75 / 366)
    assert points[-1]["expected"] == "600000000000.00"
    assert body["expected_ratio"] == str((Decimal(75) / 366).quantize(Decimal("0.000001")))


@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_month_series_with_previous_year(api: Api, as_of: str) -> None:
    day = date.fromisoformat(as_of)
    body = api.json("/v1/progress/cross_border_rmb/series", period="2020", granularity="month", as_of=as_of)
    points = body["points"]
    assert isinstance(points, list)
    assert len(points) == 12
    cumulative = Decimal(0)
    for month, point in enumerate(points, start=1):
        assert point["previous"] == money(oracle.month_settled(POSTED, "cross_border_rmb", 2019, month))
        if month > day.month:
            assert point["settled"] is None
            assert point["cumulative"] is None
            continue
        settled = oracle.month_settled(POSTED, "cross_border_rmb", 2020, month, until=day)
        cumulative += settled
        assert point["settled"] == money(settled), month
        assert point["cumulative"] == money(cumulative), month
    assert points[2]["previous"] == "700000.00"


def test_series_equals_progress_for_single_currency(api: Api) -> None:
    progress = api.json("/v1/progress", as_of="2020-07-31")
    targets = progress["targets"]
    assert isinstance(targets, list)
    rmb = next(t for t in targets if t["code"] == "cross_border_rmb")
    series = api.json("/v1/progress/cross_border_rmb/series", as_of="2020-07-31")
    for name in ("settled", "progress_ratio", "expected_ratio", "pace", "projected_total", "status"):
        assert series[name] == rmb[name], name


def test_series_csv_and_etag(api: Api) -> None:
    response = api.get("/v1/progress/offshore/series", granularity="month", as_of="2020-07-31")
    etag = response.headers["etag"]
    assert response.headers["cache-control"] == "private, max-age=0, must-revalidate"
    again = api.get(
        "/v1/progress/offshore/series",
        headers={**api.operator, "If-None-Match": etag},
        granularity="month",
        as_of="2020-07-31",
    )
    assert again.status_code == 304
    assert again.content == b""
    csv_response = api.get(
        "/v1/progress/offshore/series",
        headers={**api.operator, "Accept": "text/csv"},
        granularity="month",
        as_of="2020-07-31",
    )
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert csv_response.headers["etag"] != etag
    lines = csv_response.text.splitlines()
    assert lines[0] == "period,from,to,currency,settled,cumulative,expected,previous"
    points = response.json()["points"]
    assert len(lines) == 13
    for line, point in zip(lines[1:], points, strict=True):
        period, _, _, currency, settled, cumulative, expected, _ = line.split(",")
        assert (period, currency) == (point["period"], "USD")
        assert settled == (point["settled"] or "")
        assert cumulative == (point["cumulative"] or "")
        assert expected == point["expected"]


@pytest.mark.parametrize(
    ("path", "params", "status", "pointers"),
    [
        ("/v1/progress/nope/series", {}, 404, {"#/path/code"}),
        ("/v1/progress/offshore/series", {"period": "2019"}, 404, {"#/query/period"}),
        ("/v1/progress/offshore/series", {"period": "20x"}, 422, {"#/query/period"}),
        (
            "/v1/progress/offshore/series",
            {"granularity": "year", "as_of": "2020-02-30"},
            422,
            {"#/query/granularity", "#/query/as_of"},
        ),
    ],
)
def test_series_problems(api: Api, path: str, params: dict[str, str], status: int, pointers: set[str]) -> None:
    body = problem(api.send(path, params), status)
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {e["pointer"] for e in errors} == pointers


def test_series_needs_a_key_outside_public_mode(api: Api) -> None:
    problem(api.get("/v1/progress/offshore/series", headers={}), 401)
    assert api.get("/v1/progress/offshore/series", headers=api.bank).status_code == 200  # market-wide


# ----------------------------------------------------------------------------- league table
@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_league_table_equals_posted_events(api: Api, as_of: str) -> None:
    body = api.json("/v1/operator/league", as_of=as_of)
    targets = body["targets"]
    assert isinstance(targets, list)
    for target in targets:
        expected = oracle.league(POSTED, target["code"], date.fromisoformat(as_of))
        rows = {r["bank_id"]: r for r in target["banks"]}
        assert set(rows) == {b for b, e in expected.items() if e.settled or e.events}, target["code"]
        total = sum((e.settled for e in expected.values()), Decimal(0))
        assert target["settled"] == money(total)
        for bank, entry in expected.items():
            if bank not in rows:
                continue
            row = rows[bank]
            assert row["settled"] == money(entry.settled), (target["code"], bank)
            assert row["events"] == entry.events, (target["code"], bank)
            assert datetime.fromisoformat(row["last_event_received"]) == entry.last_received
            share = (entry.settled / total).quantize(Decimal("0.000001")) if total else Decimal("0.000000")
            assert row["share"] == str(share)
        ranked = [r["bank_id"] for r in target["banks"]]
        assert ranked == sorted(ranked, key=lambda b: (-Decimal(rows[b]["settled"]), b))


def test_league_excludes_reversed_events(api: Api) -> None:
    body = api.json("/v1/operator/league", as_of="2020-12-31")
    targets = body["targets"]
    assert isinstance(targets, list)
    rmb = next(t for t in targets if t["code"] == "cross_border_rmb")
    bank_b = next(r for r in rmb["banks"] if r["bank_id"] == "bankB")
    assert bank_b["events"] == 1
    assert bank_b["settled"] == "1234567.89"


def test_operator_pages_need_an_operator_key(api: Api) -> None:
    for path in ("/v1/operator/league", "/v1/operator/completeness", "/v1/report"):
        problem(api.get(path, headers={}), 401)
        assert problem(api.get(path, headers=api.bank), 403)["type"].endswith("/forbidden")


# ----------------------------------------------------------------------------- completeness
def test_completeness_equals_posted_events(api: Api) -> None:
    body = api.json("/v1/operator/completeness")
    last: dict[str, datetime | None] = {b: None for b in ("bankA", "bankB", "bankC", "bankD", "bankE")}
    for e in EVENTS:
        stamp = last[e.bank_id]
        last[e.bank_id] = e.processed_at if stamp is None else max(stamp, e.processed_at)
    expected_silent = oracle.silent_banks(last, datetime.now(UTC), 3, "Asia/Shanghai")
    assert expected_silent == {"bankC", "bankD"}  # the scenario itself is what the test means
    assert set(body["silent"]) == expected_silent
    # bankE: one ledger row and one DLQ entry in the window, 50 % > 5 %.
    assert body["dlq_rate_high"] == ["bankE"]
    rows = {r["bank_id"]: r for r in body["banks"]}
    assert rows["bankE"]["dlq_rate"] == "0.500000"
    assert rows["bankE"]["dlq_in_window"] == 1
    assert {b: r["unknown_country_in_window"] for b, r in rows.items()} == {
        "bankA": 0,
        "bankB": 0,
        "bankC": 0,
        "bankD": 0,
        "bankE": 1,
    }
    assert rows["bankD"]["business_days_silent"] is None
    assert rows["bankD"]["last_event_received"] is None
    assert rows["bankC"]["business_days_silent"] == oracle.business_days_after(
        LONG_AGO.astimezone(ZoneInfo("Asia/Shanghai")).date(),
        datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date(),
    )
    assert rows["bankC"]["events_in_window"] == 0  # 12 days ago is outside the 7-day window


def test_silent_bank_gauges(api: Api) -> None:
    response = api.client.get("/metrics")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert families["settlement_silent_banks"].samples[0].value == 2
    assert "settlement_bank_silent" not in families  # per bank: /metrics/banks only
    restricted = api.client.get("/metrics/banks", headers={"Authorization": "Bearer scrape-token-for-tests"})
    by_bank = {f.name: f for f in text_string_to_metric_families(restricted.text)}
    flagged = {s.labels["bank"] for s in by_bank["settlement_bank_silent"].samples}
    assert flagged == {"bankC", "bankD"}
    assert families["settlement_dlq_rate_high_banks"].samples[0].value == 1


# ----------------------------------------------------------------------------- report
def test_report_xlsx_matches_the_api_to_the_cent(api: Api) -> None:
    response = api.get("/v1/report", period="2020", format="xlsx")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    targets = api.json("/v1/targets")["targets"]
    assert isinstance(targets, list)
    assert book.sheetnames == [t["code"] for t in targets] + ["banks"]
    for target in targets:
        sheet = book[target["code"]]
        series = api.json(f"/v1/progress/{target['code']}/series", period="2020", granularity="month")
        rows = list(sheet.iter_rows(min_row=3, values_only=True))
        points = series["points"]
        assert isinstance(points, list)
        assert len(rows) == len(points) + 1  # the months, then the total row
        for row, point in zip(rows, points, strict=False):
            month, settled, ytd, amount, ratio = row
            assert month == point["period"]
            assert Decimal(str(settled)).quantize(oracle.CENT) == Decimal(point["settled"])
            assert Decimal(str(ytd)).quantize(oracle.CENT) == Decimal(point["cumulative"])
            assert Decimal(str(amount)).quantize(oracle.CENT) == Decimal(target["amount"])
            assert Decimal(str(ratio)).quantize(Decimal("0.000001")) == (
                Decimal(point["cumulative"]) / Decimal(target["amount"])
            ).quantize(Decimal("0.000001"))
        total = rows[-1]
        assert total[0] == "total"
        assert Decimal(str(total[1])).quantize(oracle.CENT) == Decimal(series["settled"])
    league = api.json("/v1/operator/league")
    league_rows = [
        (t["code"], r["bank_id"], Decimal(r["settled"]), r["events"]) for t in league["targets"] for r in t["banks"]
    ]
    sheet_rows = [
        (row[0], row[3], Decimal(str(row[5])).quantize(oracle.CENT), row[7])
        for row in book["banks"].iter_rows(min_row=2, values_only=True)
    ]
    assert sheet_rows == league_rows
    assert ("cross_border_rmb", "bankA", Decimal("3500000.55"), 2) in sheet_rows


def test_report_csv_and_problems(api: Api) -> None:
    response = api.get("/v1/report", period="2020", format="csv")
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert lines[0] == "target,currency,month,settled,ytd,target_amount,ratio"
    assert "cross_border_rmb,CNY,2020-03,3734568.44,4734568.44,600000000000.00,0.000008" in lines
    problem(api.get("/v1/report", period="2019"), 404)
    body = problem(api.get("/v1/report", period="x", format="pdf"), 422)
    assert {e["pointer"] for e in body["errors"]} == {"#/query/period", "#/query/format"}
