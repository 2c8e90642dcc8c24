"""The API app against real PostgreSQL and Redis, with state written as the aggregator
writes it (tests/api/ledger_state.py). Covers every endpoint and the authorisation matrix.
The app runs in this process (tests/api/inprocess.py): nothing here needs a process of its own."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.inprocess import api_client
from tests.api.ledger_state import Event, LedgerState
from tests.support.pipeline import bearer

pytestmark = pytest.mark.integration

USD_2020 = Decimal("6.8976")
CENT = Decimal("0.01")
SCRAPE_TOKEN = "scrape-token-for-tests"  # GET /metrics/banks (per-bank series)

A1 = Event("bankA", "A1", "cross_border_rmb", Decimal("1000000.00"), "CNY", date(2020, 1, 15))
A2 = Event("bankA", "A2", "cross_border_rmb", Decimal("250000.50"), "CNY", date(2020, 3, 31))
A3 = Event("bankA", "A3", "cross_border_rmb", Decimal("100.00"), "USD", date(2020, 6, 1))
B1 = Event("bankB", "B1", "cross_border_rmb", Decimal("3000000.00"), "CNY", date(2020, 3, 1))
B2 = Event("bankB", "B2", "cross_border_rmb", Decimal("777.77"), "CNY", date(2021, 2, 1))
A4 = Event("bankA", "A4", "offshore", Decimal("5000000.00"), "USD", date(2020, 2, 10))
A5 = Event("bankA", "A5", "offshore", Decimal("1000000.00"), "CNY", date(2020, 2, 11))
B3 = Event("bankB", "B3", "offshore", Decimal("999.99"), "CHF", date(2020, 5, 5))
A6 = Event("bankA", "A6", "cross_border_ecommerce", Decimal("25000000000.00"), "CNY", date(2020, 7, 1))
A7 = Event("bankA", "A7", "mnc_headquarters", Decimal("500.00"), "CNY", date(2020, 4, 4))

RMB_2020 = Decimal("4250000.50") + Decimal("689.76")  # A1 + A2 + B1 + A3 at 6.8976
OFFSHORE_2020 = (Decimal("5000000.00") + Decimal("1000000.00") / USD_2020).quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Api:
    client: httpx.Client  # PUBLIC_MODE off (the product default)
    public: httpx.Client  # PUBLIC_MODE on
    operator: dict[str, str]
    bank_a: dict[str, str]
    bank_b: dict[str, str]
    env: dict[str, str]

    def get(self, path: str, headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
        return self.client.get(path, params=params, headers=headers or {})


@pytest.fixture(scope="module")
def api(isolated_env: dict[str, str]) -> Iterator[Api]:
    state = LedgerState(isolated_env)
    state.load_fx_seeds()
    keys = {"op": state.add_operator("ops"), "a": state.add_bank("bankA"), "b": state.add_bank("bankB")}
    for event in (A1, A2, A3, B1, B2, A4, A5, B3, A6, A7):
        state.count(event)
    state.reverse(A7, "A7-R")
    state.dead_letter("bankA", "A8", "schema")
    state.dead_letter("bankA", "A9", "conflicting_duplicate")
    state.close()
    fast = {"FX_CACHE_SECONDS": "0", "ROLLING_FULL_REFRESH_SECONDS": "0"}
    with ExitStack() as apps:
        client = apps.enter_context(api_client({**isolated_env, "METRICS_SCRAPE_TOKEN": SCRAPE_TOKEN, **fast}))
        # Default rolling refresh here: the metrics test below relies on the live-hour re-read.
        public = apps.enter_context(api_client({**isolated_env, "PUBLIC_MODE": "true", "FX_CACHE_SECONDS": "0"}))
        yield Api(client, public, bearer(keys["op"]), bearer(keys["a"]), bearer(keys["b"]), isolated_env)


# JSON bodies are `Any`: the assertions below are what checks their shape.
def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def pointers(body: dict[str, Any]) -> set[str]:
    errors = body["errors"]
    assert isinstance(errors, list)
    return {e["pointer"] for e in errors}


def by_code(progress: dict[str, Any]) -> dict[str, dict[str, Any]]:
    targets = progress["targets"]
    assert isinstance(targets, list)
    return {t["code"]: t for t in targets}


# ----------------------------------------------------------------------------- auth matrix
@pytest.mark.parametrize(
    "path", ["/v1/targets", "/v1/progress", "/v1/totals", "/v1/banks/bankA/totals", "/v1/events/A1"]
)
def test_no_key_is_401_problem(api: Api, path: str) -> None:
    body = problem(api.get(path), 401)
    assert body["type"] != "about:blank"


def test_unknown_key_is_401(api: Api) -> None:
    problem(api.get("/v1/totals", bearer("stk_not-a-key")), 401)
    problem(api.get("/v1/progress", {"Authorization": "Basic abc"}), 401)


def test_bank_cannot_read_another_bank(api: Api) -> None:
    problem(api.get("/v1/banks/bankB/totals", api.bank_a), 404)
    problem(api.get("/v1/totals", api.bank_a, bank_id="bankB"), 404)
    problem(api.get("/v1/events/B1", api.bank_a, bank_id="bankB"), 404)
    # Without bank_id a bank's event lookup is its own: bankB's event is unknown to bankA.
    assert api.get("/v1/events/B1", api.bank_a).json()["status"] == "unknown"


def test_bank_reads_its_own_figures(api: Api) -> None:
    own = api.get("/v1/banks/bankA/totals", api.bank_a, category="cross_border_rmb")
    assert own.status_code == 200, own.text
    assert Decimal(own.json()["total"]["amount"]) == Decimal("1250690.26")
    # /v1/totals with a bank key is pinned to that bank.
    pinned = api.get("/v1/totals", api.bank_a, category="cross_border_rmb").json()
    assert pinned["bank_id"] == "bankA"
    assert pinned["total"] == own.json()["total"]
    assert api.get("/v1/events/A1", api.bank_a).json()["status"] == "counted"


def test_operator_reads_everything(api: Api) -> None:
    for path in ("/v1/targets", "/v1/progress", "/v1/totals", "/v1/banks/bankA/totals", "/v1/banks/bankB/totals"):
        assert api.get(path, api.operator).status_code == 200, path
    b = api.get("/v1/banks/bankB/totals", api.operator, category="cross_border_rmb").json()
    assert Decimal(b["total"]["amount"]) == Decimal("3000000.00")
    assert api.get("/v1/events/B1", api.operator, bank_id="bankB").json()["status"] == "counted"
    problem(api.get("/v1/banks/nobank/totals", api.operator), 404)


def test_an_operator_read_with_a_nul_in_its_query_is_audited_not_refused(api: Api) -> None:
    """Found by schemathesis: PostgreSQL cannot store U+0000, so the audit write of a query
    holding one failed and the operator read answered 503 (on the code before the fix)."""
    answer = api.client.get("/v1/operator/league?x%00y=a%00b", headers=api.operator)
    assert answer.status_code == 200, answer.text
    entries = api.get("/v1/audit", api.operator).json()["entries"]
    assert {"x\\u0000y": "a\\u0000b"} in [e["detail"].get("query") for e in entries]


def test_an_audit_page_before_an_id_beyond_bigint_is_malformed_not_a_server_error(api: Api) -> None:
    """Found by schemathesis: ?before=2**63 overflowed the BIGINT comparison and answered 503."""
    assert api.get("/v1/audit", api.operator, before=str(2**63 - 1)).status_code == 200
    answer = api.get("/v1/audit", api.operator, before=str(2**63))
    assert answer.status_code == 422, answer.text
    assert [e["pointer"] for e in answer.json()["errors"]] == ["#/query/before"]


def test_bank_key_reads_market_wide_progress(api: Api) -> None:
    assert api.get("/v1/progress", api.bank_b).json() == api.get("/v1/progress", api.operator).json()


def test_public_mode_exposes_only_targets_and_progress(api: Api) -> None:
    assert api.public.get("/v1/targets").status_code == 200
    assert api.public.get("/v1/progress").status_code == 200
    for path in ("/v1/totals", "/v1/banks/bankA/totals", "/v1/events/A1"):
        problem(api.public.get(path), 401)
    # A bad key is still refused in public mode.
    problem(api.public.get("/v1/progress", headers=bearer("stk_bad")), 401)


# ----------------------------------------------------------------------------- targets/progress
def test_targets_lists_the_six(api: Api) -> None:
    targets = api.get("/v1/targets", api.operator).json()["targets"]
    assert [t["code"] for t in targets] == [
        "cross_border_rmb",
        "cross_border_ecommerce",
        "mnc_headquarters",
        "offshore",
        "factor_market",
        "corporate_account",
    ]
    offshore = targets[3]
    assert offshore["currency"] == "USD"
    assert offshore["amount"] == "600000000000.00"
    assert offshore["display"] == "6000亿美元"
    assert offshore["plan_unit"] == "亿美元"
    assert offshore["window"] == {"start": "2020-01-01", "end": "2020-12-31", "days": 366}
    assert {t["period"] for t in targets} == {"2020"}


def test_targets_lists_periods_rules_and_references(api: Api) -> None:
    body = api.get("/v1/targets", api.operator).json()
    assert (body["periods"], body["latest_period"], body["home_country"]) == (["2020"], "2020", "CN")
    assert [c["code"] for c in body["categories"]][:2] == ["cross_border_rmb", "cross_border_ecommerce"]
    rules = {r["id"]: r for r in body["rules"]}
    rmb = rules["rmb_ecommerce_and_cash_pool_are_cross_border_rmb"]
    assert (rmb["target"], rmb["action"], rmb["enabled"]) == ("cross_border_rmb", "add", True)
    assert rmb["when"] == {
        "categories": ["cross_border_ecommerce", "mnc_headquarters"],
        "currencies": ["CNY"],
        "counterparty": "foreign",
        "direction": None,
    }
    assert rmb["source"]
    assert rules["offshore_is_foreign_currency"]["action"] == "refuse"
    assert rules["cash_pool_is_corporate_account"]["enabled"] is False
    refs = {(r["code"], r["period"], r["kind"]): r for r in body["references"]}
    assert refs[("offshore", "2011-2015", "baseline")]["display"] == "3687亿美元"
    assert refs[("cross_border_rmb", "2020", "actual")]["amount"] == "168700000000.00"


def test_progress_periods_outcomes_references_and_distinct_volume(api: Api) -> None:
    body = api.get("/v1/progress", api.operator, as_of="2021-01-05").json()
    assert (body["period"], body["periods"]) == ("2020", ["2020"])
    assert {t["status"] for t in body["targets"]} <= {"achieved", "missed"}
    assert api.get("/v1/progress", api.operator, period="2020", as_of="2021-01-05").json() == body
    rmb = by_code(body)["cross_border_rmb"]
    assert [(r["period"], r["kind"]) for r in rmb["references"]] == [
        ("2011-2015", "baseline"),
        ("2016", "actual"),
        ("2020", "actual"),
    ]
    distinct = body["distinct_volume"]
    assert (distinct["currency"], distinct["window_start"], distinct["as_of"]) == ("CNY", "2020-01-01", "2020-12-31")
    assert Decimal(distinct["amount"]) > 0
    bad = problem(api.get("/v1/progress", api.operator, period="2015"), 422)
    assert [e["pointer"] for e in bad["errors"]] == ["#/query/period"]


def test_progress_mid_window(api: Api) -> None:
    body = api.get("/v1/progress", api.operator, as_of="2020-03-31").json()
    assert body["as_of"] == "2020-03-31"
    rmb = by_code(body)["cross_border_rmb"]
    settled = Decimal("4250000.50")  # A3 (June) and B2 (2021) excluded
    assert rmb["as_of"] == "2020-03-31"
    assert Decimal(rmb["settled"]) == settled
    assert rmb["settled_plan_unit"] == "0.0425"
    expected = Decimal(91) / Decimal(366)
    assert Decimal(rmb["expected_ratio"]) == expected.quantize(Decimal("0.000001"))
    ratio = settled / Decimal(600_000_000_000)
    assert Decimal(rmb["progress_ratio"]) == ratio.quantize(Decimal("0.000001"))
    assert Decimal(rmb["pace"]) == (ratio / expected).quantize(Decimal("0.000001"))
    assert Decimal(rmb["projected_total"]) == (settled / expected).quantize(CENT)
    assert rmb["status"] == "behind"
    assert by_code(body)["cross_border_ecommerce"]["status"] == "behind"  # nothing yet by March
    assert Decimal(by_code(body)["cross_border_ecommerce"]["settled"]) == 0


def test_progress_as_of_defaults_to_today_capped_at_window_end(api: Api) -> None:
    body = api.get("/v1/progress", api.operator).json()
    targets = by_code(body)
    rmb = targets["cross_border_rmb"]
    assert rmb["as_of"] == "2020-12-31"  # the stack's clock is after 2020
    assert rmb["expected_ratio"] == "1.000000"
    assert Decimal(rmb["settled"]) == RMB_2020
    assert rmb["settled_by_currency"] == {"CNY": "4250000.50", "USD": "100.00"}
    assert rmb["status"] == "missed"  # the window closed short of the target
    assert targets["cross_border_ecommerce"]["status"] == "achieved"
    assert Decimal(targets["mnc_headquarters"]["settled"]) == 0  # reversed
    assert targets["mnc_headquarters"]["events_counted"] == 0
    assert rmb["events_counted"] == 4


def test_progress_before_the_window(api: Api) -> None:
    rmb = by_code(api.get("/v1/progress", api.operator, as_of="2019-12-31").json())["cross_border_rmb"]
    assert rmb["expected_ratio"] == "0.000000"
    assert rmb["pace"] is None
    assert rmb["projected_total"] is None
    assert rmb["status"] == "on_track"
    assert Decimal(rmb["settled"]) == 0


def test_progress_converts_and_reports_unconverted(api: Api) -> None:
    offshore = by_code(api.get("/v1/progress", api.operator).json())["offshore"]
    assert offshore["currency"] == "USD"
    assert offshore["plan_unit"] == "亿美元"
    assert Decimal(offshore["settled"]) == OFFSHORE_2020
    assert offshore["unconverted"] == {"CHF": "999.99"}
    assert offshore["settled_by_currency"]["CHF"] == "999.99"


@pytest.mark.parametrize("bad", ["2020-13-01", "20200101", "yesterday", "2020-02-30"])
def test_progress_bad_as_of(api: Api, bad: str) -> None:
    body = problem(api.get("/v1/progress", api.operator, as_of=bad), 422)
    assert pointers(body) == {"#/query/as_of"}


# ----------------------------------------------------------------------------- totals
@pytest.mark.parametrize("granularity", ["day", "month", "year"])
def test_series_sum_equals_total(api: Api, granularity: str) -> None:
    body = api.get(
        "/v1/totals",
        api.operator,
        category="cross_border_rmb",
        granularity=granularity,
        **{"from": "2020-01-01", "to": "2020-12-31"},
    ).json()
    points = body["points"]
    assert len(points) == {"day": 366, "month": 12, "year": 1}[granularity]
    assert sum(Decimal(p["amount"]) for p in points) == Decimal(body["total"]["amount"])
    assert Decimal(body["total"]["amount"]) == RMB_2020
    assert body["total"]["by_currency"] == {"CNY": "4250000.50", "USD": "100.00"}
    for currency in ("CNY", "USD"):
        assert sum(Decimal(p["by_currency"].get(currency, "0")) for p in points) == Decimal(
            body["total"]["by_currency"][currency]
        )


def test_totals_point_values(api: Api) -> None:
    body = api.get(
        "/v1/totals",
        api.operator,
        category="cross_border_rmb",
        granularity="month",
        **{"from": "2020-01-10", "to": "2020-03-31"},
    ).json()
    assert [(p["period"], p["start"], p["end"], p["amount"]) for p in body["points"]] == [
        ("2020-01", "2020-01-10", "2020-01-31", "1000000.00"),
        ("2020-02", "2020-02-01", "2020-02-29", "0.00"),
        ("2020-03", "2020-03-01", "2020-03-31", "3250000.50"),
    ]


def test_totals_conversion_currency_and_unconverted(api: Api) -> None:
    body = api.get(
        "/v1/totals",
        api.operator,
        category="offshore",
        granularity="year",
        **{"from": "2020-01-01", "to": "2020-12-31"},
    ).json()
    assert body["currency"] == "USD"
    assert Decimal(body["total"]["amount"]) == OFFSHORE_2020
    assert body["total"]["unconverted"] == {"CHF": "999.99"}
    in_cny = api.get("/v1/totals", api.operator, category="offshore", currency="CNY", granularity="year").json()
    expected = Decimal("5000000.00") * USD_2020 + Decimal("1000000.00")
    assert Decimal(in_cny["total"]["amount"]) == expected


def test_totals_all_categories(api: Api) -> None:
    body = api.get("/v1/totals", api.operator, granularity="year", **{"from": "2021-01-01", "to": "2021-12-31"}).json()
    assert body["category"] is None
    assert body["currency"] == "CNY"
    assert body["total"]["amount"] == "777.77"


def test_totals_csv(api: Api) -> None:
    params = {"category": "cross_border_rmb", "granularity": "month"}
    json_body = api.get("/v1/totals", api.operator, **params).json()
    response = api.get("/v1/totals", {**api.operator, "Accept": "text/csv"}, **params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 12
    assert [r["amount"] for r in rows] == [p["amount"] for p in json_body["points"]]
    assert rows[0]["period"] == "2020-01"
    assert rows[0]["amount_CNY"] == "1000000.00"
    assert sum(Decimal(r["amount"]) for r in rows) == RMB_2020


def test_totals_etag_and_304(api: Api) -> None:
    first = api.get("/v1/totals", api.operator, category="offshore")
    etag = first.headers["etag"]
    again = api.get("/v1/totals", {**api.operator, "If-None-Match": etag}, category="offshore")
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = api.get("/v1/totals", api.operator, category="cross_border_rmb")
    assert other.headers["etag"] != etag
    stale = api.get("/v1/totals", {**api.operator, "If-None-Match": '"stale"'}, category="offshore")
    assert stale.status_code == 200
    banks = api.get("/v1/banks/bankA/totals", api.bank_a)
    assert "etag" in banks.headers


@pytest.mark.parametrize(
    ("params", "pointer", "type_suffix"),
    [
        ({"from": "2020-02-30"}, "#/query/from", "invalid-query"),
        ({"to": "2020/12/31"}, "#/query/to", "invalid-query"),
        ({"from": "2020-06-01", "to": "2020-05-31"}, "#/query/from", "invalid-range"),
        ({"category": "bitcoin"}, "#/query/category", "invalid-query"),
        ({"granularity": "week"}, "#/query/granularity", "invalid-query"),
        ({"currency": "XXX"}, "#/query/currency", "invalid-query"),
        ({"granularity": "day", "from": "2020-01-01", "to": "2022-12-31"}, "#/query/to", "range-too-large"),
        ({"granularity": "month", "from": "1990-01-01", "to": "2020-12-31"}, "#/query/to", "range-too-large"),
        ({"granularity": "year", "from": "1900-01-01", "to": "2020-12-31"}, "#/query/to", "range-too-large"),
    ],
)
def test_totals_problems(api: Api, params: dict[str, str], pointer: str, type_suffix: str) -> None:
    body = problem(api.get("/v1/totals", api.operator, **params), 422)
    assert pointer in pointers(body)
    assert str(body["type"]).endswith(type_suffix)


def test_totals_reports_every_bad_parameter_at_once(api: Api) -> None:
    body = problem(api.get("/v1/totals", api.operator, category="x", granularity="y", **{"from": "z"}), 422)
    assert pointers(body) == {"#/query/category", "#/query/granularity", "#/query/from"}


# ----------------------------------------------------------------------------- events
@pytest.mark.parametrize(
    ("event_id", "status"),
    [
        ("A1", "counted"),
        ("A7", "reversed"),
        ("A7-R", "counted"),
        ("A8", "dlq"),
        ("A9", "duplicate"),
        ("never-sent", "unknown"),
    ],
)
def test_event_status(api: Api, event_id: str, status: str) -> None:
    body = api.get(f"/v1/events/{event_id}", api.bank_a).json()
    assert body["status"] == status
    assert body["bank_id"] == "bankA"
    assert body["event_id"] == event_id
    assert body["reference"] == event_id  # no percent-escapes: the id is the reference


def test_an_iso_reference_id_shows_the_reference_it_stands_for(api: Api) -> None:
    # EndToEndId "ABC/ABC-13679/2015-09-15" of an ISO 20022 message, never sent by bankA.
    body = api.get("/v1/events/ABC%252FABC-13679%252F2015-09-15", api.bank_a).json()
    assert (body["event_id"], body["reference"]) == ("ABC%2FABC-13679%2F2015-09-15", "ABC/ABC-13679/2015-09-15")


def test_event_ledger_record(api: Api) -> None:
    body = api.get("/v1/events/A7", api.bank_a).json()
    assert body["reversed_by"] == "A7-R"
    ledger = body["ledger"]
    assert ledger["amount"] == "500.00"
    assert ledger["currency"] == "CNY"
    assert ledger["value_date"] == "2020-04-04"
    assert ledger["ledger_status"] == "reversed"
    reversal = api.get("/v1/events/A7-R", api.bank_a).json()["ledger"]
    assert reversal["reverses"] == "A7"
    assert reversal["ledger_status"] == "reversal_applied"
    dlq = api.get("/v1/events/A8", api.bank_a).json()
    assert dlq["ledger"] is None
    assert dlq["dlq"][0]["reason"] == "schema"


def test_event_operator_needs_bank_id(api: Api) -> None:
    body = problem(api.get("/v1/events/A1", api.operator), 422)
    assert pointers(body) == {"#/query/bank_id"}
    assert api.get("/v1/events/A1", api.operator, bank_id="bankA").json()["status"] == "counted"


# ----------------------------------------------------------------------------- metrics, docs
def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_business_gauges(api: Api) -> None:
    api.get("/v1/targets", api.operator)
    samples = _samples(api.client.get("/metrics").text)
    p2020 = ("period", "2020")  # the target gauges carry the (latest) target period
    assert samples[("settlement_settled_cny", (p2020, ("target", "cross_border_rmb")))] == float(RMB_2020)
    assert samples[("settlement_settled_usd", (p2020, ("target", "offshore")))] == float(OFFSHORE_2020)
    assert samples[("settlement_target_usd", (p2020, ("target", "offshore")))] == 6e11
    assert samples[("settlement_target_cny", (p2020, ("target", "factor_market")))] == 5e12
    assert samples[("settlement_expected_ratio", (p2020, ("target", "offshore")))] == 1.0
    assert samples[("settlement_unconverted_amount", (("currency", "CHF"), p2020, ("target", "offshore")))] == 999.99
    assert samples[("settlement_unconverted_amount", (("currency", "CNY"), p2020, ("target", "offshore")))] == 0.0
    assert samples[("settlement_events_counted", (p2020, ("target", "cross_border_rmb")))] == 4
    # Each event once across all targets, the same figure as /v1/progress's distinct_volume.
    distinct = api.get("/v1/progress", api.operator).json()["distinct_volume"]
    assert samples[("settlement_distinct_volume_cny", (p2020,))] == float(distinct["amount"])
    assert samples[("settlement_distinct_events_counted", (p2020,))] == distinct["events_counted"]
    # Per-bank series are on /metrics/banks, behind the scrape token (tests/security covers refusals).
    banks = _samples(api.client.get("/metrics/banks", headers=bearer(SCRAPE_TOKEN)).text)
    assert banks[("settlement_bank_settled_cny", (("bank", "bankB"), ("target", "cross_border_rmb")))] == 3000000.0
    # Processing-time windows: everything was applied just now (B2's 2021 value date too).
    rolling = samples[("settlement_rolling_settled_cny", (("target", "cross_border_rmb"), ("window", "24h")))]
    assert rolling == float(Decimal("4250000.50") + Decimal("777.77") + Decimal("689.76"))
    assert ("settlement_rolling_settled_usd", (("target", "offshore"), ("window", "30d"))) in samples
    build = [k for k in samples if k[0] == "settlement_build_info"]
    assert len(build) == 1
    assert dict(build[0][1])["version"]
    assert any(k[0] == "api_http_requests_total" and ("route", "/v1/targets") in k[1] for k in samples)
    assert not any("bankA" in str(k) for k in samples)


def test_openapi_docs(api: Api) -> None:
    assert api.client.get("/docs").status_code == 200
    paths = api.client.get("/openapi.json").json()["paths"]
    assert {"/v1/targets", "/v1/progress", "/v1/totals", "/v1/banks/{bank_id}/totals", "/v1/events/{event_id}"} <= set(
        paths
    )
    # Read-only but the control totals: a bank's declaration and an operator's acknowledgement.
    writes = {"/v1/control-totals", "/v1/operator/control-totals/breaks/{break_id}/acknowledge"}
    assert {p: set(m) for p, m in paths.items() if set(m) != {"get"}} == {p: {"post"} for p in writes}


def test_status_json_is_public_progress(api: Api) -> None:
    # Public mode (the private API refuses figures without a key: tests/security).
    status = api.public.get("/status.json")
    assert status.status_code == 200
    assert status.json() == api.get("/v1/progress", api.operator).json()
    page = api.public.get("/")
    assert page.status_code == 200
    assert "initial-progress" in page.text
    assert api.client.get("/static/app.js").status_code == 200
    assert api.client.get("/static/../app.py").status_code == 404


def test_rolling_gauges_follow_the_current_hour(api: Api) -> None:
    """Closed hours are kept between scrapes, the current hour is re-read on every scrape."""
    key = ("settlement_rolling_settled_cny", (("target", "factor_market"), ("window", "24h")))
    before = _samples(api.public.get("/metrics").text)[key]
    state = LedgerState(api.env)
    # Value date outside every range asserted above, so no other test sees it.
    state.count(Event("bankC", "C1", "factor_market", Decimal("12.34"), "CNY", date(2023, 1, 1)))
    state.close()
    after = _samples(api.public.get("/metrics").text)[key]
    assert after == pytest.approx(before + 12.34)
