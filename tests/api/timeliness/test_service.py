"""timeliness.service: lateness of events per month, checked against the independent
oracle (chinese_calendar day by day) on the 2020 Spring Festival, its makeup working day and
the COVID-19 extension, and on days outside the calendar's years."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from settlement_api.timeliness.service import Arrivals, assess
from settlement_core.deadlines import Deadline, WorkingDaysAfterValueDate, lateness
from tests.support.working_days import working_days_late

DEADLINE = Deadline(
    description="due within 5 working days",
    rule=WorkingDaysAfterValueDate(kind="working_days_after_value_date", working_days=5),
)


def test_the_spring_festival_counts_only_working_days() -> None:
    # Friday 2020-01-17: the 5th working day after it is Thursday the 23rd (Sunday the 19th
    # was a makeup working day); the holiday, extended to 2 February, adds no lateness, so
    # an arrival on Monday 3 February is one working day late, not seven as Monday to
    # Friday would say.
    result = lateness(DEADLINE, date(2020, 1, 17), date(2020, 2, 3))
    assert result is not None
    assert (result.due, result.working_days_late) == (date(2020, 1, 23), 1)
    assert working_days_late(date(2020, 1, 17), date(2020, 2, 3)) == 1
    # Arriving during the holiday counts as arriving on its first working day after.
    during = lateness(DEADLINE, date(2020, 1, 17), date(2020, 1, 30))
    assert during is not None
    assert during.working_days_late == 1


def test_a_month_is_assessed_event_by_event() -> None:
    groups = [
        Arrivals(date(2020, 1, 17), date(2020, 1, 20), 3),  # on time
        Arrivals(date(2020, 1, 17), date(2020, 2, 3), 2),  # 1 working day late
        Arrivals(date(2020, 1, 2), date(2020, 2, 3), 1),  # much later
        Arrivals(date(2020, 1, 31), date(2031, 1, 6), 4),  # arrived beyond the calendar
    ]
    result = assess(groups, DEADLINE)
    late_2 = working_days_late(date(2020, 1, 2), date(2020, 2, 3))
    assert late_2 is not None
    assert late_2 > 1
    assert (result.events, result.on_time, result.late, result.not_assessed) == (10, 3, 3, 4)
    assert result.late_by == {1: 2, late_2: 1}
    assert result.max_working_days_late == late_2
    assert result.late_share == Decimal("0.500000")


def test_nothing_assessed_has_a_zero_late_share() -> None:
    result = assess([], DEADLINE)
    assert (result.events, result.late, result.late_share, result.max_working_days_late) == (0, 0, Decimal(0), 0)


@given(
    st.dates(date(2004, 1, 1), date(2026, 11, 1)),
    st.integers(0, 60),
)
@settings(max_examples=300, deadline=None)
def test_lateness_agrees_with_the_oracle(value_date: date, after: int) -> None:
    arrived = value_date + timedelta(days=after)
    expected = working_days_late(value_date, arrived)
    got = lateness(DEADLINE, value_date, arrived)
    assert (None if got is None else got.working_days_late) == expected


@pytest.mark.parametrize("year", [2003, 2031])
def test_outside_the_calendar_nothing_is_guessed(year: int) -> None:
    assert lateness(DEADLINE, date(year, 6, 2), date(year, 6, 20)) is None
    assert assess([Arrivals(date(year, 6, 2), date(year, 6, 20), 7)], DEADLINE).not_assessed == 7
