"""The business calendar: today's date in the business timezone, and Monday-to-Friday days.

The plan's figures are per calendar day in Asia/Shanghai, so "today" is that zone's date for
every service (ingest's value-date check, the API's default as_of). Business days are Monday
to Friday; public holidays are not modelled, so a bank that is silent over a holiday is
flagged one day early, which errs on the side of looking.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def business_date(at: datetime, timezone: str) -> date:
    """The business-timezone date of an aware instant."""
    return at.astimezone(ZoneInfo(timezone)).date()


def is_business_day(day: date) -> bool:
    return day.weekday() < 5


def business_days_between(after: date, until: date) -> int:
    """Business days d with after < d <= until (0 when until <= after)."""
    if until <= after:
        return 0
    days = (until - after).days
    full_weeks, rest = divmod(days, 7)
    count = full_weeks * 5
    for offset in range(1, rest + 1):
        if is_business_day(after + timedelta(days=full_weeks * 7 + offset)):
            count += 1
    return count
