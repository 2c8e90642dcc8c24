"""An independent judge of lateness for the timeliness tests: China's working days straight
from the `chinese_calendar` package (not through settlement_core.business_days), stepping one
day at a time, with the rule of seeds/deadlines.yaml written out again here."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

WORKING_DAYS_AFTER_VALUE_DATE = 5  # seeds/deadlines.yaml, event.rule.working_days
# The one day where the package contradicts the State Council's notice, read from the notice
# (国办发明电〔2005〕35号: "12月31日（星期六）上班").
NOTICE = {date(2005, 12, 31): True}


def is_working_day(day: date) -> bool | None:
    """None where the package has no notice for the year."""
    if day in NOTICE:
        return NOTICE[day]
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def working_days_late(value_date: date, arrived: date) -> int | None:
    """Working days after the due date up to the arrival (moved to the next working day when
    it is not one); 0 when on time; None when a day on the way is outside the calendar."""
    due, counted = value_date, 0
    while counted < WORKING_DAYS_AFTER_VALUE_DATE:
        due += timedelta(days=1)
        working = is_working_day(due)
        if working is None:
            return None
        counted += working
    received = arrived
    while True:
        working = is_working_day(received)
        if working is None:
            return None
        if working:
            break
        received += timedelta(days=1)
    late, day = 0, due
    while day < received:
        day += timedelta(days=1)
        working = is_working_day(day)
        if working is None:
            return None
        late += working
    return late
