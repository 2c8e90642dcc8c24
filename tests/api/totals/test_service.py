"""Totals queries: parsing, range caps, bad parameters, series sums (totals/service.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from settlement_api.kit.bucket_store import Seen
from settlement_api.totals.service import (
    evaluate_series,
    parse_totals_query,
    plan_series,
    point_count,
    render_csv,
)
from settlement_core.buckets import Granularity, series_periods
from settlement_core.problems import Problem
from tests.api.inputs import FX, TARGETS, settings


@pytest.mark.parametrize("grain", list(Granularity))
@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2020, 1, 1), date(2020, 1, 1)),
        (date(2019, 12, 31), date(2020, 1, 1)),
        (date(2020, 2, 15), date(2023, 7, 3)),
        (date(2020, 1, 1), date(2020, 12, 31)),
    ],
)
def test_point_count_matches_series(grain: Granularity, start: date, end: date) -> None:
    assert point_count(start, end, grain) == len(series_periods(start, end, grain))


def _parse(**raw: str | None) -> object:
    params: dict[str, str | None] = {
        "category": None,
        "granularity": None,
        "start": None,
        "end": None,
        "currency": None,
        "bank_id": None,
    }
    params.update(raw)
    return parse_totals_query(TARGETS, settings(), **params)


def test_totals_defaults_to_the_target_window_and_currency() -> None:
    query = _parse(category="offshore")
    assert query == parse_totals_query(
        TARGETS,
        settings(),
        category="offshore",
        granularity="month",
        start="2020-01-01",
        end="2020-12-31",
        currency="USD",
        bank_id=None,
    )


@pytest.mark.parametrize(
    ("grain", "end", "ok"),
    [
        ("day", "2021-12-31", True),  # 731 days: the cap
        ("day", "2022-01-01", False),
        ("month", "2039-12-31", True),  # 240 months
        ("month", "2040-01-01", False),
        ("year", "2069-12-31", True),  # 50 years
        ("year", "2070-01-01", False),
    ],
)
def test_range_caps(grain: str, end: str, ok: bool) -> None:
    if ok:
        _parse(granularity=grain, start="2020-01-01", end=end)
        return
    with pytest.raises(Problem) as caught:
        _parse(granularity=grain, start="2020-01-01", end=end)
    assert caught.value.slug == "range-too-large"
    assert caught.value.errors[0].pointer == "#/query/to"


@pytest.mark.parametrize(
    ("raw", "pointer"),
    [
        ({"start": "2020-1-1"}, "#/query/from"),
        ({"end": "2020-02-30"}, "#/query/to"),
        ({"category": "nope"}, "#/query/category"),
        ({"granularity": "week"}, "#/query/granularity"),
        ({"currency": "usd"}, "#/query/currency"),
        ({"start": "2020-02-01", "end": "2020-01-31"}, "#/query/from"),
    ],
)
def test_bad_parameters(raw: dict[str, str], pointer: str) -> None:
    with pytest.raises(Problem) as caught:
        _parse(**raw)
    assert caught.value.status == 422
    assert [e.pointer for e in caught.value.errors] == [pointer]


def test_series_sum_equals_total_even_with_rounding() -> None:
    query = parse_totals_query(
        TARGETS,
        settings(),
        category="offshore",
        granularity="day",
        start="2020-01-01",
        end="2020-01-10",
        currency="USD",
        bank_id=None,
    )
    seen = Seen(frozenset({("offshore", "CNY"), ("offshore", "USD")}), frozenset())
    series = plan_series(query, seen, FX)
    values = {name: 333 for name in series.fields}  # 3.33 per day, CNY needs conversion
    totals = evaluate_series(series, values)
    assert len(totals.points) == 10
    assert sum(Decimal(p.amount) for p in totals.points) == Decimal(totals.total.amount)
    assert totals.total.by_currency == {"CNY": "33.30", "USD": "33.30"}
    text = render_csv(totals)
    lines = text.splitlines()
    assert lines[0] == "period,from,to,currency,amount,amount_CNY,amount_USD"
    assert lines[1].startswith("2020-01-01,2020-01-01,2020-01-01,USD,")
    assert len(lines) == 11
