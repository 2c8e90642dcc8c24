"""Parameters and content negotiation of the SDMX data route (sdmx/query.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from settlement_api.sdmx.query import ALL_SERIES, choose, parse_data_query, parse_key, require_flow, structure_format
from settlement_api.sdmx.render import STRUCTURE_MEDIA, DataFormat
from settlement_core.problems import Problem

CSV, XML = DataFormat.CSV.value, DataFormat.XML.value
OFFERS = [CSV, XML]


def pointers(exc: pytest.ExceptionInfo[Problem]) -> list[str]:
    return [e.pointer for e in exc.value.errors]


def test_periods_and_instants_are_parsed() -> None:
    q = parse_data_query("2020-Q2", "2020-05", "2021-01-15T08:00:00+08:00", "2021-01-01T00:00:00Z", None)
    assert (q.start, q.end) == (date(2020, 4, 1), date(2020, 5, 31))
    assert q.as_of == datetime(2021, 1, 15, 8, tzinfo=timezone(timedelta(hours=8)))
    assert q.updated_after == datetime(2021, 1, 1, tzinfo=UTC)
    assert q.format is DataFormat.CSV


def test_every_bad_parameter_is_reported_at_once() -> None:
    with pytest.raises(Problem) as exc:
        parse_data_query("2020-13", "x", "2021-01-15", "2021-01-15T00:00:00", None)
    assert exc.value.status == 422
    assert pointers(exc) == ["#/query/startPeriod", "#/query/endPeriod", "#/query/asOf", "#/query/updatedAfter"]


def test_end_before_start_is_refused() -> None:
    with pytest.raises(Problem) as exc:
        parse_data_query("2020-Q3", "2020-06", None, None, None)
    assert pointers(exc) == ["#/query/endPeriod"]
    # The same period at both ends is one period.
    assert parse_data_query("2020-06", "2020-06", None, None, None).end == date(2020, 6, 30)


def test_an_impossible_instant_is_refused() -> None:
    with pytest.raises(Problem) as exc:
        parse_data_query(None, None, "2021-02-30T00:00:00Z", None, None)
    assert pointers(exc) == ["#/query/asOf"]


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, CSV),
        ("", CSV),
        ("*/*", CSV),
        ("application/*", CSV),
        ("text/html,application/xhtml+xml,*/*;q=0.8", CSV),
        ("application/vnd.sdmx.data+csv;version=2.0.0", CSV),
        ("application/vnd.sdmx.data+csv; version=2.0", CSV),
        ("application/vnd.sdmx.data+csv", CSV),
        ("application/vnd.sdmx.structurespecificdata+xml;version=2.1", XML),
        ("application/vnd.sdmx.data+csv;q=0.5, application/vnd.sdmx.structurespecificdata+xml;version=2.1", XML),
        ("application/vnd.sdmx.structurespecificdata+xml;version=2.1;q=0, */*", CSV),
    ],
)
def test_accept_chooses_the_format(accept: str | None, chosen: str) -> None:
    assert choose(accept, OFFERS, CSV) == chosen


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "text/csv",
        "application/vnd.sdmx.data+csv;version=1.0.0",
        "application/vnd.sdmx.data+csv;q=0",
        ";;,",
    ],
)
def test_an_accept_without_an_offer_is_406(accept: str) -> None:
    with pytest.raises(Problem) as exc:
        choose(accept, OFFERS, CSV)
    assert exc.value.status == 406
    assert pointers(exc) == ["#/header/accept"]


def test_structures_are_sdmx_ml() -> None:
    assert structure_format(None) == STRUCTURE_MEDIA
    assert structure_format("application/xml") == "application/xml"
    with pytest.raises(Problem):
        structure_format("application/vnd.sdmx.structure+json;version=1.0.0")


@pytest.mark.parametrize(
    "flow", ["SETTLEMENT_PROGRESS", "SETTLEMENT,SETTLEMENT_PROGRESS", "SETTLEMENT,SETTLEMENT_PROGRESS,1.0"]
)
def test_flow_references(flow: str) -> None:
    require_flow(flow)


def test_an_unknown_flow_is_404() -> None:
    with pytest.raises(Problem) as exc:
        require_flow("EXR")
    assert exc.value.status == 404
    assert pointers(exc) == ["#/path/flow"]


def test_series_keys() -> None:
    assert parse_key(None) == parse_key("all") == parse_key("...") == ALL_SERIES
    assert parse_key("A.cross_border_rmb+offshore..YI") == (
        frozenset({"A"}),
        frozenset({"cross_border_rmb", "offshore"}),
        None,
        frozenset({"YI"}),
    )


@pytest.mark.parametrize("key", ["A.cross_border_rmb", "A.b.c.d.e", "A.+b..", "A.b c..", ""])
def test_a_malformed_key_is_422(key: str) -> None:
    with pytest.raises(Problem) as exc:
        parse_key(key)
    assert exc.value.status == 422
    assert pointers(exc) == ["#/path/key"]
