"""The business calendar: today's date in the business timezone, and China's working days.

The plan's figures are per calendar day in Asia/Shanghai, so "today" is that zone's date for
every service (ingest's value-date check, the API's default as_of).

A business day is a working day of China's official calendar: Monday to Friday, less the
public holidays, plus the makeup working days (调休) that the State Council's yearly notice
moves onto a weekend. 2020 for instance: the Spring Festival holiday ran 2020-01-24..30,
was extended to 2020-02-02, and Sunday 2020-01-19 was a working day; National Day and
Mid-Autumn ran 2020-10-01..08 with Sunday 09-27 and Saturday 10-10 worked. The days come
from the `chinese-calendar` package (MIT; one release per notice, 2004 to 2026 in 1.11.0),
with the corrections below where its data and a notice's text differ.

A year the package does not cover has no notice yet (or predates 2004): a question about it
raises `OutsideCalendar` rather than guessing, since a guessed holiday moves every deadline
and silence count around it. Callers decide; `weekdays_between` is the Monday-to-Friday
count that the operator view falls back to (docs/statistics.md).
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

# The years with a notice in the installed package: its holiday table spans them.
FIRST_YEAR: int = min(chinese_calendar.holidays).year
LAST_YEAR: int = max(chinese_calendar.holidays).year


# Days where the package's data contradicts the notice, with the notice's answer (is it a
# working day?). Found by checking every covered day against the `holidays` package
# (tests/settlement_core/test_business_days.py), then reading the notice.
CORRECTIONS: dict[date, bool] = {
    # 国办发明电〔2005〕35号 (2006 holidays): "12月31日（星期六）上班".
    date(2005, 12, 31): True,
}


class OutsideCalendar(ValueError):
    """A date in a year the working-day calendar does not cover."""

    def __init__(self, day: date) -> None:
        self.day = day
        super().__init__(f"{day.isoformat()} is outside the working-day calendar (years {FIRST_YEAR} to {LAST_YEAR})")


def today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def business_date(at: datetime, timezone: str) -> date:
    """The business-timezone date of an aware instant."""
    return at.astimezone(ZoneInfo(timezone)).date()


def covers(day: date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def is_business_day(day: date) -> bool:
    """A working day on China's calendar; OutsideCalendar for a year it does not cover."""
    if not covers(day):
        raise OutsideCalendar(day)
    corrected = CORRECTIONS.get(day)
    return bool(chinese_calendar.is_workday(day)) if corrected is None else corrected


@functools.cache
def _working_days_through() -> tuple[int, ...]:
    """Working days from the calendar's first day up to and including each covered day
    (index: days since 1 January of FIRST_YEAR). Built once per process from every covered
    day (about 8,400 for 2004-2026, tens of milliseconds)."""
    first = date(FIRST_YEAR, 1, 1)
    counts: list[int] = []
    total = 0
    for n in range((date(LAST_YEAR, 12, 31) - first).days + 1):
        total += is_business_day(first + timedelta(days=n))
        counts.append(total)
    return tuple(counts)


def business_days_between(after: date, until: date) -> int:
    """Business days d with after < d <= until (0 when until <= after, whatever the years);
    OutsideCalendar when a day between is in a year the calendar does not cover."""
    if until <= after:
        return 0
    if covers(after) and covers(until):
        # A difference of prefix counts: the reminders and lateness of years-old months ask
        # for spans of thousands of days, which a day-by-day walk took milliseconds each for
        # (10 s for an operator's reminder list from 2004 on the test stack).
        through, first = _working_days_through(), date(FIRST_YEAR, 1, 1)
        return through[(until - first).days] - through[(after - first).days]
    return sum(is_business_day(after + timedelta(days=n)) for n in range(1, (until - after).days + 1))


def add_business_days(start: date, count: int) -> date:
    """The count-th business day after start (start itself never counts; count >= 1)."""
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    day = start
    while count:
        day += timedelta(days=1)
        count -= is_business_day(day)
    return day


def next_business_day_from(day: date) -> date:
    """day itself when it is a business day, else the first business day after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def nth_business_day_of_month(year: int, month: int, n: int) -> date:
    """The n-th business day of a month (n >= 1); ValueError when the month has fewer."""
    if n < 1:
        raise ValueError(f"n must be at least 1, not {n}")
    first = date(year, month, 1)
    day = add_business_days(first - timedelta(days=1), n)
    if (day.year, day.month) != (year, month):
        raise ValueError(f"{year}-{month:02d} has fewer than {n} business days")
    return day


def weekdays_between(after: date, until: date) -> int:
    """Monday-to-Friday days d with after < d <= until: the count without holidays, for a
    caller that must answer for a year the calendar does not cover."""
    if until <= after:
        return 0
    full_weeks, rest = divmod((until - after).days, 7)
    return full_weeks * 5 + sum((after + timedelta(days=full_weeks * 7 + n)).weekday() < 5 for n in range(1, rest + 1))
