"""The SDMX export on the real stack, end to end: banks POST events to ingest -> Kafka ->
aggregate -> PostgreSQL ledger + Redis buckets -> the API process (PUBLIC_MODE on,
MIN_CONTRIBUTORS=3, the product default).

Acceptance of issue 24 steps 4-5: the export of 2020 reads back with pysdmx and its values
equal /v1/progress (operator, bank key and anonymous reader alike); a cell with fewer than
MIN_CONTRIBUTORS banks is suppressed in it for everyone but operators; and the year minus
the months shown never gives a thin month (secondary suppression).

Attack shape (docs/statistics.md): bank `sx-d` is alone in cross-border RMB in March 2020.
Without disclosure control its March is published to the cent; with primary suppression
only, the 2020 figure minus January and February is still exactly its March. The 2020
export before this slice did not exist; the per-cell rule alone (as the month series has
it) fails test_the_year_minus_the_shown_months_is_never_a_thin_month.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.api.ledger_state import LedgerState
from tests.api.sdmx.sdmx_reading import read_back
from tests.conftest import ServiceRunner
from tests.support.ctl import settlementctl_ok
from tests.support.pipeline import bearer

pytestmark = pytest.mark.integration

DATA = "/v1/sdmx/data/SETTLEMENT_PROGRESS"
XML = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
BANKS = ("sx-a", "sx-b", "sx-c", "sx-d")
THIN_MARCH = "7777777.77"  # sx-d's March, alone in cross-border RMB
# (bank, category, amount, currency, value date)
EVENTS = (
    ("sx-a", "cross_border_rmb", "1000000.00", "CNY", "2020-01-10"),
    ("sx-b", "cross_border_rmb", "2000000.00", "CNY", "2020-01-11"),
    ("sx-c", "cross_border_rmb", "3000000.00", "CNY", "2020-01-12"),
    ("sx-a", "cross_border_rmb", "100.00", "CNY", "2020-02-03"),
    ("sx-a", "cross_border_rmb", "1000.00", "USD", "2020-02-04"),  # converted at read time
    ("sx-b", "cross_border_rmb", "200.00", "CNY", "2020-02-05"),
    ("sx-c", "cross_border_rmb", "300.00", "CNY", "2020-02-06"),
    ("sx-d", "cross_border_rmb", "400.00", "CNY", "2020-02-07"),
    ("sx-d", "cross_border_rmb", THIN_MARCH, "CNY", "2020-03-09"),
    # Two banks only: the whole year is thin.
    ("sx-a", "offshore", "7654321.09", "USD", "2020-04-01"),
    ("sx-b", "offshore", "1111.11", "USD", "2020-04-02"),
    ("sx-a", "factor_market", "1.00", "CNY", "2020-05-01"),
    ("sx-b", "factor_market", "2.00", "CNY", "2020-05-02"),
    ("sx-c", "factor_market", "3.00", "CNY", "2020-05-03"),
)


@dataclass(frozen=True, slots=True)
class Stack:
    api: str
    operator: dict[str, str]
    banks: dict[str, dict[str, str]]
    ingest: str
    env: dict[str, str]

    def get(self, path: str, headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
        return httpx.get(self.api + path, params=params, headers=headers or {}, timeout=60)


@pytest.fixture(scope="module")
def stack(isolated_env: dict[str, str], services: ServiceRunner) -> Stack:
    state = LedgerState(isolated_env)
    operator = bearer(state.add_operator("sx-ops"))
    banks = {bank: bearer(state.add_bank(bank)) for bank in BANKS}
    state.close()
    ingest = services.serve("ingest", "settlement_ingest")
    services.serve("aggregate", "settlement_aggregate")
    settings = {"MIN_CONTRIBUTORS": "3", "PUBLIC_MODE": "true", "FX_CACHE_SECONDS": "0"}
    api = services.serve("api", "settlement_api", settings)
    for n, (bank, category, amount, currency, day) in enumerate(EVENTS):
        body = {
            "event_id": f"sx-{n}",
            "category": category,
            "amount": amount,
            "currency": currency,
            "value_date": day,
            "direction": "inbound",
            "counterparty_country": "SG",
        }
        posted = httpx.post(f"{ingest.url}/v1/events", json=body, headers=banks[bank], timeout=10)
        assert posted.status_code == 202, posted.text
    result = Stack(api.url, operator, banks, ingest.url, isolated_env)
    deadline = time.monotonic() + 90
    counted = 0
    while time.monotonic() < deadline:
        rows = result.get("/v1/progress", operator, period="2020").json()["targets"]
        counted = sum(r["events_counted"] for r in rows)
        if counted == len(EVENTS):
            break
        time.sleep(0.5)
    assert counted == len(EVENTS), "the aggregator did not count every event in 90 s"
    return result


def csv_rows(body: str) -> dict[tuple[str, str, str, str], dict[str, str]]:
    """The exact text of each observation by (FREQ, TARGET, UNIT, TIME_PERIOD)."""
    table = csv.DictReader(io.StringIO(body))
    return {(r["FREQ"], r["TARGET"], r["UNIT"], r["TIME_PERIOD"]): r for r in table}


def readers(stack: Stack) -> dict[str, dict[str, str]]:
    return {"operator": stack.operator, "bank": stack.banks["sx-d"], "anonymous": {}}


def export(stack: Stack, headers: dict[str, str], **params: str) -> str:
    response = stack.get(DATA, headers, startPeriod="2020", endPeriod="2020", **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.sdmx.data+csv")
    return response.text


@pytest.mark.parametrize("who", ["operator", "bank", "anonymous"])
def test_the_2020_export_equals_progress_and_reads_back(stack: Stack, who: str) -> None:
    headers = readers(stack)[who]
    body = export(stack, headers)
    exact = csv_rows(body)
    back = read_back(body)
    xml = stack.get(DATA, {**headers, "Accept": XML}, startPeriod="2020", endPeriod="2020")
    assert xml.status_code == 200, xml.text
    assert xml.headers["content-type"].startswith("application/vnd.sdmx.structurespecificdata+xml")
    back_xml = read_back(xml.text)
    assert set(back_xml) == set(back)
    progress = stack.get("/v1/progress", headers, period="2020").json()
    assert len(progress["targets"]) == 6
    for row in progress["targets"]:
        code, currency = row["code"], row["currency"]
        units = exact[("A", code, "UNITS", "2020")]
        yi = exact[("A", code, "YI", "2020")]
        if row["settled"] is None:  # suppressed by /v1/progress for this reader
            assert (units["OBS_VALUE"], units["CONF_STATUS"]) == ("NaN", "C")
            assert yi["OBS_VALUE"] == "NaN"
        else:
            assert units["OBS_VALUE"] == row["settled"]  # the exact text
            assert yi["OBS_VALUE"] == row["settled_plan_unit"]
        for read in (back, back_xml):
            observed = read[("A", code, currency, "UNITS", "2020")]
            assert observed["OBS_STATUS"] == "P"  # no final release yet
            if row["settled"] is None:
                assert observed["OBS_VALUE"] == "NaN"
            else:
                assert Decimal(observed["OBS_VALUE"]) == Decimal(row["settled"])
    # The months are the month series' points, which add up to the year.
    series = stack.get("/v1/progress/cross_border_rmb/series", stack.operator, granularity="month").json()
    if who == "operator":
        for point in series["points"]:
            assert exact[("M", "cross_border_rmb", "UNITS", point["period"])]["OBS_VALUE"] == point["settled"]
        months = [
            Decimal(exact[("M", "cross_border_rmb", "UNITS", f"2020-{m:02d}")]["OBS_VALUE"]) for m in range(1, 13)
        ]
        assert sum(months) == Decimal(exact[("A", "cross_border_rmb", "UNITS", "2020")]["OBS_VALUE"])


def test_a_thin_cell_is_suppressed_except_for_operators(stack: Stack) -> None:
    for who, headers in readers(stack).items():
        body = export(stack, headers)
        rows = csv_rows(body)
        march = rows[("M", "cross_border_rmb", "UNITS", "2020-03")]
        offshore = rows[("A", "offshore", "UNITS", "2020")]
        assert march["CONF_STATUS"] == "C"
        assert offshore["CONF_STATUS"] == "C"
        factor = rows[("A", "factor_market", "UNITS", "2020")]
        assert (factor["OBS_VALUE"], factor["CONF_STATUS"]) == ("6.00", "F")  # three banks
        if who == "operator":
            assert march["OBS_VALUE"] == THIN_MARCH
            assert offshore["OBS_VALUE"] == "7655432.20"
        else:
            assert march["OBS_VALUE"] == "NaN"
            assert offshore["OBS_VALUE"] == "NaN"
            for leaked in (THIN_MARCH, "7655432.20", "7654321.09", "1111.11", "0.0778"):
                assert leaked not in body, (who, leaked)
        xml = stack.get(DATA, {**headers, "Accept": XML}, startPeriod="2020-03", endPeriod="2020-03").text
        assert (THIN_MARCH in xml) is (who == "operator")


def test_the_year_minus_the_shown_months_is_never_a_thin_month(stack: Stack) -> None:
    exact = csv_rows(export(stack, stack.operator))
    for who in ("bank", "anonymous"):
        rows = csv_rows(export(stack, readers(stack)[who]))
        for code in ("cross_border_rmb", "offshore", "factor_market", "mnc_headquarters"):
            year = rows[("A", code, "UNITS", "2020")]["OBS_VALUE"]
            if year == "NaN":
                continue
            months = {p: r for (f, c, u, p), r in rows.items() if (f, c, u) == ("M", code, "UNITS")}
            withheld = [p for p, r in months.items() if r["OBS_VALUE"] == "NaN"]
            if not withheld:
                continue
            assert len(withheld) >= 2, (code, withheld)
            recovered = Decimal(year) - sum(Decimal(r["OBS_VALUE"]) for r in months.values() if r["OBS_VALUE"] != "NaN")
            truth = {p: Decimal(exact[("M", code, "UNITS", p)]["OBS_VALUE"]) for p in withheld}
            assert recovered == sum(truth.values())  # what subtraction gives: their sum only
            for period, value in truth.items():
                assert recovered != value, (code, period)
            assert {months[p]["CONF_STATUS"] for p in withheld} >= {"C", "D"}
    # The scenario really has a thin month beside a published year.
    assert exact[("M", "cross_border_rmb", "UNITS", "2020-03")]["CONF_STATUS"] == "C"
    assert exact[("A", "cross_border_rmb", "UNITS", "2020")]["CONF_STATUS"] == "F"


def test_structure_reads_back_and_describes_the_data(stack: Stack) -> None:
    from pysdmx.io import read_sdmx
    from pysdmx.model import Codelist, DataStructureDefinition

    response = stack.get("/v1/sdmx/structure")
    assert response.status_code == 200, response.text
    message = read_sdmx(response.text, validate=True)
    structures: list[Any] = list(message.structures or [])
    (dsd,) = [s for s in structures if isinstance(s, DataStructureDefinition)]
    ids = [c.id for c in dsd.components]
    assert ids[:5] == ["FREQ", "TARGET", "CURRENCY", "UNIT", "TIME_PERIOD"]
    assert {"OBS_STATUS", "CONF_STATUS", "OBS_VALUE"} <= set(ids)
    lists = {s.id: {c.id for c in s.items} for s in structures if isinstance(s, Codelist)}
    assert lists["CL_CONF_STATUS"] == {"F", "C", "D"}
    assert {"A", "P"} <= lists["CL_OBS_STATUS"]
    # Every code the data uses is in the structure's code lists.
    rows = csv_rows(export(stack, {}))
    assert {k[1] for k in rows} <= lists["CL_TARGET"]
    assert {r["CONF_STATUS"] for r in rows.values()} <= lists["CL_CONF_STATUS"]


def test_as_of_and_updated_after_read_the_ledger_and_a_final_release_makes_values_normal(stack: Stack) -> None:
    """asOf is the export as known then, from the ledger (docs/statistics.md, two time axes);
    updatedAfter keeps only what changed since; OBS_STATUS is P until a final release of the
    period exists at the asOf time, then A. Runs last: it adds an event."""
    present = export(stack, stack.operator)
    then = datetime.now(UTC)
    assert export(stack, stack.operator, asOf=then.isoformat()) == present  # known now = the projection
    assert {r["OBS_STATUS"] for r in csv_rows(present).values()} == {"P"}

    body = {
        "event_id": "sx-late",
        "category": "factor_market",
        "amount": "5.00",
        "currency": "CNY",
        "value_date": "2020-05-20",
        "direction": "inbound",
        "counterparty_country": "SG",
    }
    posted = httpx.post(f"{stack.ingest}/v1/events", json=body, headers=stack.banks["sx-c"], timeout=10)
    assert posted.status_code == 202, posted.text
    deadline = time.monotonic() + 90
    while export(stack, stack.operator) == present:
        assert time.monotonic() < deadline, "the late event was not counted in 90 s"
        time.sleep(0.5)
    after = csv_rows(export(stack, stack.operator))
    before = csv_rows(present)
    assert csv_rows(export(stack, stack.operator, asOf=then.isoformat())) == before  # the past stays put
    changed = {k for k in after if after[k]["OBS_VALUE"] != before[k]["OBS_VALUE"]}
    assert {(f, c, p) for f, c, _, p in changed} == {("A", "factor_market", "2020"), ("M", "factor_market", "2020-05")}
    updated = stack.get(DATA, stack.operator, startPeriod="2020", endPeriod="2020", updatedAfter=then.isoformat())
    assert updated.status_code == 200, updated.text
    assert set(csv_rows(updated.text)) == changed
    assert Decimal(after[("A", "factor_market", "UNITS", "2020")]["OBS_VALUE"]) - Decimal(
        before[("A", "factor_market", "UNITS", "2020")]["OBS_VALUE"]
    ) == Decimal("5.00")

    settlementctl_ok(stack.env, "release", "create", "--period", "2020", "--kind", "final", "--note", "SDMX test")
    released = datetime.now(UTC)
    assert {r["OBS_STATUS"] for r in csv_rows(export(stack, stack.operator)).values()} == {"A"}
    assert {r["OBS_STATUS"] for r in csv_rows(export(stack, {}, asOf=released.isoformat())).values()} == {"A"}
    assert {r["OBS_STATUS"] for r in csv_rows(export(stack, {}, asOf=then.isoformat())).values()} == {"P"}
    future = stack.get(DATA, {}, asOf="2999-01-01T00:00:00Z")
    assert future.status_code == 422
    assert [e["pointer"] for e in future.json()["errors"]] == ["#/query/asOf"]
