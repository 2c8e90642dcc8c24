"""The one strict calendar-date parser of the project."""

from __future__ import annotations

import re
from datetime import date

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
