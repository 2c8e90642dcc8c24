"""The business calendar against two independent oracles: facts hand-checked in the State
Council's notices on the 2020 holidays, and the `holidays` package's Chinese calendar (other
maintainers, other data files) for every day of every covered year."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from settlement_core.business_days import (
    FIRST_YEAR,
    LAST_YEAR,
    OutsideCalendar,
    add_business_days,
    business_date,
    business_days_between,
    is_business_day,
    next_business_day_from,
    nth_business_day_of_month,
    weekdays_between,
)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# 国办发明电〔2019〕16号 (2020 holidays) and 国办发明电〔2020〕1号 (Spring Festival extended
# to 2 February "because of the novel coronavirus"; work resumed Monday 3 February).
SPRING_FESTIVAL_2020 = days(date(2020, 1, 24), date(2020, 2, 2))
NATIONAL_DAY_2020 = days(date(2020, 10, 1), date(2020, 10, 8))  # with Mid-Autumn, 8 days
MAKEUP_2020 = [date(2020, 1, 19), date(2020, 9, 27), date(2020, 10, 10)]  # Sun, Sun, Sat


def test_the_2020_notices_holidays_are_not_business_days() -> None:
    off = [*SPRING_FESTIVAL_2020, *NATIONAL_DAY_2020, date(2020, 1, 1)]
    assert [d for d in off if is_business_day(d)] == []
    # Saturday 1 February was a makeup working day in the first notice; the extension dropped it.
    assert not is_business_day(date(2020, 2, 1))


def test_the_2020_notices_other_holidays() -> None:
    # Tomb-Sweeping 4-4..6; Labour Day 5-1..5 with Sun 4-26 and Sat 5-9 worked; Dragon Boat
    # 6-25..27 with Sun 6-28 worked.
    off = [*days(date(2020, 4, 4), date(2020, 4, 6)), *days(date(2020, 5, 1), date(2020, 5, 5))]
    off += days(date(2020, 6, 25), date(2020, 6, 27))
    assert [d for d in off if is_business_day(d)] == []
    assert all(is_business_day(d) for d in (date(2020, 4, 26), date(2020, 5, 9), date(2020, 6, 28)))


def test_the_2020_notices_makeup_days_are_business_days() -> None:
    assert [d.weekday() for d in MAKEUP_2020] == [6, 6, 5]
    assert all(is_business_day(d) for d in MAKEUP_2020)
    assert is_business_day(date(2020, 1, 23))  # the last working day before the festival
    assert is_business_day(date(2020, 2, 3))  # work resumed
    assert is_business_day(date(2020, 10, 9))


def test_counting_across_the_2020_spring_festival() -> None:
    assert business_days_between(date(2020, 1, 23), date(2020, 2, 3)) == 1  # only 3 February
    assert business_days_between(date(2020, 1, 23), date(2020, 2, 2)) == 0  # ten days, none worked
    # Friday to Monday over the makeup Sunday: 19 and 20 January.
    assert business_days_between(date(2020, 1, 17), date(2020, 1, 20)) == 2
    assert weekdays_between(date(2020, 1, 17), date(2020, 1, 20)) == 1  # the rule it replaces
    assert add_business_days(date(2020, 1, 21), 5) == date(2020, 2, 5)  # 22, 23, 3, 4, 5
    assert add_business_days(date(2020, 1, 17), 5) == date(2020, 1, 23)  # 19, 20, 21, 22, 23


def test_counting_across_the_2020_national_day() -> None:
    # Sep 27 (Sun), 28, 29, 30, Oct 9, Oct 10 (Sat), Oct 12.
    assert business_days_between(date(2020, 9, 25), date(2020, 10, 12)) == 7
    assert weekdays_between(date(2020, 9, 25), date(2020, 10, 12)) == 11
    assert add_business_days(date(2020, 9, 30), 1) == date(2020, 10, 9)
    assert add_business_days(date(2020, 9, 30), 2) == date(2020, 10, 10)


def test_nth_business_day_of_month() -> None:
    assert nth_business_day_of_month(2020, 2, 1) == date(2020, 2, 3)
    assert nth_business_day_of_month(2020, 2, 10) == date(2020, 2, 14)  # 3-7, 10-14
    assert nth_business_day_of_month(2020, 1, 1) == date(2020, 1, 2)  # 1 January is a holiday
    assert nth_business_day_of_month(2020, 10, 2) == date(2020, 10, 10)  # the makeup Saturday
    with pytest.raises(ValueError, match="fewer than 30 business days"):
        nth_business_day_of_month(2020, 2, 30)
    with pytest.raises(ValueError, match="at least 1"):
        nth_business_day_of_month(2020, 2, 0)


def test_add_business_days_needs_a_positive_count() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        add_business_days(date(2020, 1, 21), 0)


def test_next_business_day_from() -> None:
    assert next_business_day_from(date(2020, 1, 24)) == date(2020, 2, 3)
    assert next_business_day_from(date(2020, 1, 19)) == date(2020, 1, 19)
    assert next_business_day_from(date(2020, 10, 11)) == date(2020, 10, 12)


def test_the_2014_notices_days() -> None:
    # The 2014 notice (December 2013): Spring Festival 1-31..2-6 with Sun 1-26 and Sat 2-8 worked;
    # Tomb-Sweeping Sat 4-5 with Mon 4-7 off; Labour Day 5-1..3 with Sun 5-4 worked;
    # National Day 10-1..7 with Sun 9-28 and Sat 10-11 worked.
    off = [*days(date(2014, 1, 31), date(2014, 2, 6)), date(2014, 4, 7), *days(date(2014, 10, 1), date(2014, 10, 7))]
    worked = [date(2014, 1, 26), date(2014, 2, 8), date(2014, 5, 4), date(2014, 9, 28), date(2014, 10, 11)]
    assert [d for d in off if is_business_day(d)] == []
    assert [d for d in worked if not is_business_day(d)] == []


def test_the_2006_notices_makeup_saturday_is_corrected() -> None:
    # 国办发明电〔2005〕35号: "12月31日（星期六）上班"; chinese-calendar 1.11.0 has it as a rest day.
    assert date(2005, 12, 31).weekday() == 5
    assert is_business_day(date(2005, 12, 31))
    assert not is_business_day(date(2006, 1, 2))
    assert not is_business_day(date(2006, 1, 3))


@pytest.mark.parametrize("year", range(FIRST_YEAR, LAST_YEAR + 1))
def test_every_day_agrees_with_the_holidays_package(year: int) -> None:
    china = holidays.country_holidays("CN", years=year)
    differing = [d for d in days(date(year, 1, 1), date(year, 12, 31)) if is_business_day(d) != china.is_working_day(d)]
    assert differing == []


def test_coverage_is_at_least_2004_to_2026() -> None:
    assert FIRST_YEAR <= 2004
    assert LAST_YEAR >= 2026


@pytest.mark.parametrize("day", [date(FIRST_YEAR - 1, 12, 31), date(LAST_YEAR + 1, 1, 1)])
def test_a_year_without_a_notice_is_a_typed_error(day: date) -> None:
    with pytest.raises(OutsideCalendar) as raised:
        is_business_day(day)
    assert raised.value.day == day
    assert f"years {FIRST_YEAR} to {LAST_YEAR}" in str(raised.value)
    with pytest.raises(OutsideCalendar):
        business_days_between(day - timedelta(days=3), day + timedelta(days=3))
    with pytest.raises(OutsideCalendar):
        add_business_days(day - timedelta(days=1), 5)
    assert business_days_between(day, day) == 0  # an empty span asks nothing


@pytest.mark.parametrize("start", [date(2026, 11, 23) + timedelta(days=i) for i in range(7)])  # Mon..Sun
@pytest.mark.parametrize("span", [0, 1, 2, 3, 4, 5, 6, 7, 8, 13, 14, 15, 30, 365])
def test_weekdays_between_equals_a_day_by_day_count(start: date, span: int) -> None:
    until = start + timedelta(days=span)
    assert weekdays_between(start, until) == sum(d.weekday() < 5 for d in days(start + timedelta(days=1), until))


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


@given(st.dates(date(2003, 6, 1), date(2027, 6, 30)), st.integers(0, 9000))
@settings(max_examples=300, deadline=None)
def test_the_prefix_count_equals_a_day_by_day_walk(after: date, days: int) -> None:
    """business_days_between answers covered spans from prefix counts; it must say exactly
    what counting each day does, and refuse the same spans (a day outside the calendar)."""
    until = after + timedelta(days=days)
    try:
        walked: int | None = sum(is_business_day(after + timedelta(days=n)) for n in range(1, days + 1))
    except OutsideCalendar:
        walked = None
    try:
        counted: int | None = business_days_between(after, until)
    except OutsideCalendar:
        counted = None
    assert counted == walked
