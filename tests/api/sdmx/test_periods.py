"""SDMX period syntax (sdmx/periods.py)."""

from __future__ import annotations

from datetime import date

import pytest

from settlement_api.sdmx.periods import PeriodError, Span, parse_period


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2020", date(2020, 1, 1), date(2020, 12, 31)),
        ("2020-S2", date(2020, 7, 1), date(2020, 12, 31)),
        ("2020-Q1", date(2020, 1, 1), date(2020, 3, 31)),
        ("2020-Q4", date(2020, 10, 1), date(2020, 12, 31)),
        ("2020-02", date(2020, 2, 1), date(2020, 2, 29)),
        ("2019-02", date(2019, 2, 1), date(2019, 2, 28)),
        ("2020-02-29", date(2020, 2, 29), date(2020, 2, 29)),
    ],
)
def test_periods_are_their_calendar_days(text: str, start: date, end: date) -> None:
    assert parse_period(text) == Span(start, end)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "20",
        "2020-13",
        "2020-00",
        "2020-Q5",
        "2020-Q0",
        "2020-S3",
        "0000",
        "2019-02-29",
        "2020-W01",
        "2020 ",
        "２０２０",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)


def test_overlap_is_inclusive() -> None:
    year = parse_period("2020")
    assert year.overlaps(parse_period("2020-12-31"))
    assert not year.overlaps(parse_period("2021-01"))
