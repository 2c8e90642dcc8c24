"""Reporting months: the period of control totals and of per-bank timeliness, a calendar
month written "YYYY-MM" (the deadlines seed's monthly rule, `working_day_of_next_month`).

One pattern serves OpenAPI (path and query parameters) and parsing, so the documented
shape and the accepted one cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from settlement_core.problems import FieldError, Problem

# The working-day calendar (settlement_core.business_days) starts in 2004; nothing earlier is
# collected. Up to 2099: four digits, and far beyond any deadline the calendar can compute.
FIRST_YEAR = 2004
MONTH_PATTERN = "^(200[4-9]|20[1-9][0-9])-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)


@dataclass(frozen=True, slots=True, order=True)
class Month:
    year: int
    month: int

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.following().first_day - timedelta(days=1)

    def following(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)


def parse_month(text: str) -> Month | None:
    """The month "YYYY-MM" names, or None when the text is not one (FIRST_YEAR to 2099)."""
    match = _MONTH.fullmatch(text)
    return None if match is None else Month(int(match.group(1)), int(match.group(2)))


def month_problem(text: str, where: str) -> Problem:
    """The 422 for a period that is not a month, pointing at `where` (#/path/..., #/query/...
    or a body field)."""
    location = where.split("/")[1] if where.startswith("#/") else ""
    title, kind = {
        "path": ("Invalid path parameter", "invalid-path"),
        "query": ("Invalid query parameters", "invalid-query"),
    }.get(location, ("Validation failed", "validation"))
    return Problem(
        422,
        title,
        f"{text[:20]!r} is not a period: a calendar month YYYY-MM from {FIRST_YEAR} on.",
        kind,
        [FieldError(where, f"not a calendar month YYYY-MM from {FIRST_YEAR} on")],
    )
