"""The business calendar: Monday-to-Friday counting, checked against a day-by-day count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from settlement_core.business_days import business_date, business_days_between, is_business_day


def slow_count(after: date, until: date) -> int:
    return sum(1 for n in range(1, (until - after).days + 1) if (after + timedelta(days=n)).weekday() < 5)


@pytest.mark.parametrize("start", [date(2026, 11, 23) + timedelta(days=i) for i in range(7)])  # Mon..Sun
@pytest.mark.parametrize("span", [0, 1, 2, 3, 4, 5, 6, 7, 8, 13, 14, 15, 30, 365])
def test_business_days_between_equals_a_day_by_day_count(start: date, span: int) -> None:
    assert business_days_between(start, start + timedelta(days=span)) == slow_count(start, start + timedelta(days=span))


def test_known_weeks() -> None:
    friday, monday = date(2026, 11, 27), date(2026, 11, 30)
    assert business_days_between(friday, monday) == 1  # Saturday and Sunday do not count
    assert business_days_between(monday, friday) == 0  # until before after
    assert business_days_between(date(2026, 11, 30), date(2026, 12, 3)) == 3  # Tue, Wed, Thu
    assert not is_business_day(date(2026, 11, 28))
    assert is_business_day(date(2026, 11, 27))


def test_business_date_is_the_zone_date() -> None:
    # 17:00 UTC on Sunday is already Monday in Shanghai.
    assert business_date(datetime(2026, 11, 29, 17, 0, tzinfo=UTC), "Asia/Shanghai") == date(2026, 11, 30)
    assert business_date(datetime(2026, 11, 29, 15, 59, tzinfo=UTC), "Asia/Shanghai") == date(2026, 11, 29)
