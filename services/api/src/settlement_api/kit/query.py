"""Strict parsing of query parameters into problem+json field errors.

Dates are parsed by hand: pydantic's lax `date` would read `20200101` as a Unix timestamp.
All errors of a request are collected so the client sees every bad parameter at once.
"""

from __future__ import annotations

from datetime import date

from settlement_core.dates import ISO_DATE_PATTERN, parse_iso_date
from settlement_core.problems import FieldError, Problem


class QueryErrors:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, name: str, message: str) -> None:
        self.errors.append(FieldError(f"#/query/{name}", message))

    def parse_date(self, name: str, value: str | None) -> date | None:
        if value is None:
            return None
        if not ISO_DATE_PATTERN.fullmatch(value):
            self.add(name, f"{value!r} is not a date in the form YYYY-MM-DD")
            return None
        try:
            return parse_iso_date(value)
        except ValueError:
            self.add(name, f"{value!r} is not a valid calendar date")
            return None

    def raise_if_any(self) -> None:
        if self.errors:
            raise Problem(
                422,
                "Invalid query parameters",
                "; ".join(f"{e.pointer}: {e.message}" for e in self.errors),
                "invalid-query",
                list(self.errors),
            )
