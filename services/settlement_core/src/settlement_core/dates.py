"""The one strict calendar-date parser of the project."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

# Python 3.11's date.fromisoformat also takes 20200101 and 2020-W01-1; the contract says
# YYYY-MM-DD only. Used with fullmatch (`$` would accept a trailing newline).
ISO_DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class DateFormatError(ValueError):
    """Not YYYY-MM-DD text, or not a calendar date; the message says which."""


def parse_iso_date(text: object) -> date:
    """A date from exactly YYYY-MM-DD text; raises DateFormatError otherwise."""
    if not isinstance(text, str) or not ISO_DATE_PATTERN.fullmatch(text):
        raise DateFormatError("must be a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DateFormatError("is not a valid calendar date") from None


@lru_cache(maxsize=4096)
def parse_iso_date_or_none(text: str) -> date | None:
    """`parse_iso_date(text)`, or None where it would raise; memoised for the topic
    decoder's fast path, where a batch of events carries few distinct value dates."""
    try:
        return parse_iso_date(text)
    except DateFormatError:
        return None
