"""Progress rows, plan units, previous periods and the report's queries (progress/service.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from settlement_api.kit.plan_units import in_plan_unit
from settlement_api.kit.readmodel import Amounts
from settlement_api.progress.service import report_queries, target_progress, year_earlier
from settlement_api.progress.settled import Settled
from tests.api.inputs import TARGETS


def _target(code: str) -> object:
    return next(t for t in TARGETS if t.code == code)


def test_progress_row_closed_window_and_plan_units() -> None:
    target = next(t for t in TARGETS if t.code == "cross_border_rmb")
    amounts = Amounts("CNY", Decimal("300000000000.00"), {"CNY": 30_000_000_000_000}, {})
    row = target_progress(target, Settled(amounts, 7), date(2026, 1, 1), Decimal("0.9"))
    assert row.as_of == date(2020, 12, 31)
    assert row.settled_plan_unit == "3000.0000"
    assert row.target_amount_plan_unit == "6000.0000"
    assert row.progress_ratio == "0.500000"
    assert row.status == "missed"  # the window has closed short of the target
    mid = target_progress(target, Settled(amounts, 7), date(2020, 6, 30), Decimal("0.9"))
    assert mid.status == "on_track"
    assert mid.pace is not None
    assert Decimal(mid.pace) > 1


def test_plan_unit_rounding() -> None:
    assert in_plan_unit(Decimal("123456789012.34")) == "1234.5679"
    assert in_plan_unit(Decimal(0)) == "0.0000"


def test_previous_period_and_change() -> None:
    target = _target("cross_border_rmb")
    now = Settled(Amounts("CNY", Decimal("150.00"), {"CNY": 15000}, {}), 2)
    before = Settled(Amounts("CNY", Decimal("100.00"), {"CNY": 10000}, {}), 1)
    row = target_progress(target, now, date(2020, 6, 30), Decimal("0.9"), before)  # type: ignore[arg-type]
    assert (row.previous_period_settled, row.change, row.change_ratio) == ("100.00", "50.00", "0.500000")
    alone = target_progress(target, now, date(2020, 6, 30), Decimal("0.9"))  # type: ignore[arg-type]
    assert (alone.previous_period_settled, alone.change, alone.change_ratio) == (None, None, None)
    zero = Settled(Amounts("CNY", Decimal(0), {}, {}), 0)
    assert target_progress(target, now, date(2020, 6, 30), Decimal("0.9"), zero).change_ratio is None  # type: ignore[arg-type]


def test_report_queries_cover_the_window_the_year_before_and_the_distinct_volume() -> None:
    queries = report_queries(TARGETS, date(2020, 2, 29))
    rmb = queries["cross_border_rmb"]
    assert (rmb.start, rmb.end, rmb.currency) == (date(2020, 1, 1), date(2020, 2, 29), "CNY")
    previous = queries["cross_border_rmb:previous"]
    assert (previous.start, previous.end) == (date(2019, 1, 1), date(2019, 2, 28))
    assert queries["offshore"].currency == "USD"
    distinct = queries["*"]
    assert (distinct.category, distinct.currency, distinct.start, distinct.end) == (
        "*",
        "CNY",
        date(2020, 1, 1),
        date(2020, 2, 29),
    )
    after = report_queries(TARGETS, date(2021, 1, 5))
    assert after["*"].end == date(2020, 12, 31)  # capped at the period's window end
    assert year_earlier(date(2021, 3, 1)) == date(2020, 3, 1)
    assert year_earlier(date(1, 6, 1)) == date.min  # as_of=0001-01-01 once answered 500
