"""SDMX reporting periods: the text of `startPeriod`/`endPeriod` and of TIME_PERIOD, as
calendar date ranges (pure).

Accepted forms are the SDMX 2.1 REST ones for the frequencies a query may mean here:
`2020` (year), `2020-S1` (half year), `2020-Q1` (quarter), `2020-01` (month) and
`2020-01-15` (day). A period filter keeps every observation whose period overlaps
[start of startPeriod, end of endPeriod] (SDMX REST: an annual 2020 observation matches
startPeriod=2020-03).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from settlement_core.dates import DateFormatError, parse_iso_date

_YEAR = re.compile(r"([0-9]{4})")
_HALF = re.compile(r"([0-9]{4})-S([12])")
_QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

PERIOD_FORMS = "YYYY, YYYY-Sn, YYYY-Qn, YYYY-MM or YYYY-MM-DD"


class PeriodError(ValueError):
    """Not an SDMX period of the accepted forms; the message says why."""


@dataclass(frozen=True, slots=True)
class Span:
    """A period as the calendar days it covers, both ends inclusive."""

    start: date
    end: date

    def overlaps(self, other: Span) -> bool:
        return self.start <= other.end and other.start <= self.end


def _months(year: int, first: int, count: int) -> Span:
    last = first + count - 1
    return Span(date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1]))


def _year(text: str) -> int:
    year = int(text)
    if year < 1:
        raise PeriodError("year 0000 does not exist")
    return year


def parse_period(text: str) -> Span:
    """The days of one SDMX period; raises PeriodError for anything else."""
    if match := _YEAR.fullmatch(text):
        return _months(_year(match.group(1)), 1, 12)
    if match := _HALF.fullmatch(text):
        return _months(_year(match.group(1)), 6 * int(match.group(2)) - 5, 6)
    if match := _QUARTER.fullmatch(text):
        return _months(_year(match.group(1)), 3 * int(match.group(2)) - 2, 3)
    if match := _MONTH.fullmatch(text):
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"{text!r} is not a calendar month")
        return _months(_year(match.group(1)), month, 1)
    if _DAY.fullmatch(text):
        try:
            day = parse_iso_date(text)
        except DateFormatError:
            raise PeriodError(f"{text!r} is not a calendar date") from None
        return Span(day, day)
    raise PeriodError(f"{text!r} is not an SDMX period ({PERIOD_FORMS})")


def month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"
