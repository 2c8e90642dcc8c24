"""An independent judge of China's working days for the deadline tests: the days straight
from the `chinese_calendar` package (not through settlement_core.business_days), walked one
at a time, with the rules of seeds/deadlines.yaml written out again here. Every function
answers None where a day it needs lies in a year the package has no notice for."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

EVENT_WORKING_DAYS = 5  # seeds/deadlines.yaml, event.rule.working_days
CONTROL_TOTALS_WORKING_DAY = 10  # seeds/deadlines.yaml, control_totals.rule.working_day
# The one day where the package contradicts the State Council's notice, read from the notice
# (国办发明电〔2005〕35号: "12月31日（星期六）上班").
NOTICE = {date(2005, 12, 31): True}


def is_working_day(day: date) -> bool | None:
    if day in NOTICE:
        return NOTICE[day]
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def working_days_between(after: date, until: date) -> int | None:
    """Working days d with after < d <= until."""
    count, day = 0, after
    while day < until:
        day += timedelta(days=1)
        working = is_working_day(day)
        if working is None:
            return None
        count += working
    return count


def nth_working_day_after(day: date, n: int) -> date | None:
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        working = is_working_day(day)
        if working is None:
            return None
        counted += working
    return day


def control_totals_due(year: int, month: int) -> date | None:
    """The 10th working day of the month after (year, month)."""
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nth_working_day_after(following - timedelta(days=1), CONTROL_TOTALS_WORKING_DAY)


def working_days_late(value_date: date, arrived: date) -> int | None:
    """An event's working days after its due date up to its arrival (moved to the next
    working day when it is not one); 0 when on time."""
    due = nth_working_day_after(value_date, EVENT_WORKING_DAYS)
    if due is None:
        return None
    received = arrived
    while True:
        working = is_working_day(received)
        if working is None:
            return None
        if working:
            break
        received += timedelta(days=1)
    return working_days_between(due, received) if received > due else 0
