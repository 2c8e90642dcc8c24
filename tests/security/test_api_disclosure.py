"""Disclosure control and "market-wide figures only" in public mode.

Attack: read a market-wide figure that only one or two banks contributed to. With one bank
(MNC headquarters: sec-c alone) the "market" figure is that bank's volume to the cent; with
two, either bank subtracts its own and learns the other's. Anonymous readers (public mode)
and bank keys (either mode) must get such figures suppressed, marked as such, in every
place that shows them: /v1/progress, the series (JSON and CSV), /status.json,
/status/series.json and the status page. On the starting main every thin figure was
served in full (test_thin_cells_are_suppressed_for_anonymous_readers fails on its first
null check). Operators see everything; a bank's own totals are never suppressed for it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal

import pytest

from tests.conftest import ServiceRunner
from tests.security.api_stack import SINGLE_BANK_FIGURES, THIN, Apis, get, start_apis

pytestmark = pytest.mark.integration

REASON = "fewer than 3 contributing banks"
OFFSHORE_USD = "7655432.20"  # sec-a + sec-b offshore, what an operator sees


@pytest.fixture(scope="module")
def apis(isolated_env: dict[str, str], services: ServiceRunner) -> Apis:
    return start_apis(isolated_env, services)


def rows(progress: dict[str, object]) -> dict[str, dict[str, object]]:
    targets = progress["targets"]
    assert isinstance(targets, list)
    return {t["code"]: t for t in targets}


def assert_thin_suppressed(progress: dict[str, object]) -> None:
    by_code = rows(progress)
    for code in THIN:
        row = by_code[code]
        assert row["settled"] is None, (code, row["settled"])
        assert row["settled_plan_unit"] is None
        assert row["progress_ratio"] is None
        assert row["events_counted"] is None
        assert row["settled_by_currency"] == {}
        assert row["status"] == "suppressed"
        assert row["suppressed"] is True
        assert row["suppressed_reason"] == REASON
    rmb = by_code["cross_border_rmb"]
    assert rmb["settled"] == "10000000.00"
    assert rmb["suppressed"] is False
    text = json.dumps(progress)
    for figure in (*SINGLE_BANK_FIGURES, OFFSHORE_USD):
        assert figure not in text


def test_thin_cells_are_suppressed_for_anonymous_readers(apis: Apis) -> None:
    assert_thin_suppressed(get(apis.public + "/v1/progress").json())
    assert_thin_suppressed(get(apis.public + "/status.json").json())


@pytest.mark.parametrize("mode", ["private", "public"])
def test_thin_cells_are_suppressed_for_bank_keys(apis: Apis, mode: str) -> None:
    # sec-a is one of the two offshore banks: subtracting its own volume would give sec-b's.
    assert_thin_suppressed(get(getattr(apis, mode) + "/v1/progress", apis.banks["sec-a"]).json())


def test_operators_and_own_figures_are_exact(apis: Apis) -> None:
    operator = rows(get(apis.private + "/v1/progress", apis.operator).json())
    assert operator["offshore"]["settled"] == OFFSHORE_USD
    assert operator["mnc_headquarters"]["settled"] == "5555555.55"
    assert operator["offshore"]["suppressed"] is False
    own = get(
        apis.private + "/v1/totals",
        apis.banks["sec-c"],
        category="mnc_headquarters",
        granularity="year",
        **{"from": "2020-01-01", "to": "2020-12-31"},
    )
    assert own.status_code == 200, own.text
    assert own.json()["total"]["amount"] == "5555555.55"


def test_series_json_and_csv_suppress_thin_points(apis: Apis) -> None:
    series = get(apis.public + "/v1/progress/offshore/series", granularity="month").json()
    assert series["settled"] is None
    assert series["suppressed"] is True
    april = next(p for p in series["points"] if p["period"] == "2020-04")
    assert april["settled"] is None
    assert april["cumulative"] is None
    assert april["suppressed"] is True
    assert april["suppressed_reason"] == REASON
    exported = get(apis.public + "/v1/progress/offshore/series", {"Accept": "text/csv"}, granularity="month").text
    table = list(csv.DictReader(io.StringIO(exported)))
    april_row = next(r for r in table if r["period"] == "2020-04")
    assert april_row["settled"] == ""
    assert april_row["suppressed"] == REASON
    for figure in (*SINGLE_BANK_FIGURES, OFFSHORE_USD, "7655432.2"):
        assert figure not in exported
    # The publishable target's points are there; its day points with a single bank are not.
    rmb = get(apis.public + "/v1/progress/cross_border_rmb/series", granularity="day").json()
    assert rmb["settled"] == "10000000.00"
    day = next(p for p in rmb["points"] if p["period"] == "2020-01-15")
    assert day["settled"] is None  # sec-a alone on that day
    assert day["cumulative"] is None  # one bank since the window start
    last = next(p for p in rmb["points"] if p["period"] == "2020-03-16")
    assert Decimal(last["cumulative"]) == Decimal("10000000.00")
    # Operators get every point.
    exact = get(apis.private + "/v1/progress/offshore/series", apis.operator, granularity="month").json()
    assert next(p for p in exact["points"] if p["period"] == "2020-04")["settled"] == OFFSHORE_USD


def test_status_page_and_series_json_suppress_thin_cells(apis: Apis) -> None:
    status_series = get(apis.public + "/status/series.json").json()
    by_code = {t["code"]: t for t in status_series["targets"]}
    for code in THIN:
        assert by_code[code]["day"]["settled"] is None
        assert by_code[code]["month"]["suppressed"] is True
    html = get(apis.public + "/").text
    match = re.search(r'<script id="initial-progress" type="application/json">(.*?)</script>', html, re.DOTALL)
    assert match
    assert_thin_suppressed(json.loads(match.group(1)))
    for figure in (*SINGLE_BANK_FIGURES, OFFSHORE_USD):
        assert figure not in html


@pytest.mark.parametrize("path", ["/v1/totals?category=offshore", "/v1/banks/sec-a/totals", "/v1/operator/league"])
def test_public_mode_serves_no_per_bank_figure_anonymously(apis: Apis, path: str) -> None:
    refused = get(apis.public + path)
    assert refused.status_code == 401, refused.text[:300]
    for figure in SINGLE_BANK_FIGURES:
        assert figure not in refused.text
