"""The period report (`GET /v1/report`): monthly figures, year to date, target and ratio per
target, plus the per-bank league, as xlsx (openpyxl) or CSV.

Amounts are written as exact Decimals with a two-decimal number format; the figures are the
month series of /v1/progress/{code}/series and the league of /v1/operator/league at the same
as_of, so every cell can be checked against the API to the cent.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from settlement_api.kit.query import QueryErrors
from settlement_api.kit.spreadsheet_cells import csv_row, safe_cell
from settlement_api.ledger.operator import ratio
from settlement_api.ledger.schemas import LeagueOut
from settlement_api.progress.schemas import SeriesOut
from settlement_api.progress.series import SeriesQuery, window_for
from settlement_core.buckets import Granularity
from settlement_core.catalogue import Target
from settlement_core.problems import FieldError, Problem

FORMATS = ("xlsx", "csv")
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_YEAR = re.compile(r"[0-9]{4}")
_MONEY = "#,##0.00"
_RATIO = "0.000000"


@dataclass(frozen=True, slots=True)
class ReportQuery:
    year: int
    format: str
    series: tuple[SeriesQuery, ...]


def parse_report_query(targets: tuple[Target, ...], *, period: str | None, fmt: str | None, as_of: date) -> ReportQuery:
    errors = QueryErrors()
    year = max(t.window_start.year for t in targets)  # default: the latest window
    if period is not None:
        if _YEAR.fullmatch(period):
            year = int(period)
        else:
            errors.add("period", f"{period!r} is not a year YYYY")
    chosen = "xlsx" if fmt is None else fmt  # an empty ?format= is a bad value, not the default
    if chosen not in FORMATS:
        errors.add("format", f"{fmt!r} is not one of: xlsx, csv")
    errors.raise_if_any()
    windows = [window_for(targets, t.code, year) for t in targets if t.window_start.year == year]
    found = tuple(SeriesQuery(w, Granularity.MONTH, as_of) for w in windows if w is not None)
    if not found:
        raise Problem(
            404,
            "Not found",
            f"No target window in {year}.",
            "not-found",
            [FieldError("#/query/period", "no target window starts in this year")],
        )
    return ReportQuery(year, chosen, found)


@dataclass(frozen=True, slots=True)
class MonthRow:
    month: str
    settled: Decimal
    ytd: Decimal
    target: Decimal
    ratio: Decimal


def month_rows(series: SeriesOut) -> list[MonthRow]:
    """Months up to as_of; YTD is the series' cumulative, the ratio YTD / target."""
    target = Decimal(series.target_amount)
    return [
        MonthRow(p.period, Decimal(p.settled), Decimal(p.cumulative), target, ratio(Decimal(p.cumulative), target))
        for p in series.points
        if p.settled is not None and p.cumulative is not None
    ]


def _sheet_widths(sheet: Worksheet, widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def render_xlsx(year: int, series: list[SeriesOut], league: LeagueOut) -> bytes:
    book = Workbook()
    first = book.active
    if first is not None:
        book.remove(first)
    for s in series:
        sheet = book.create_sheet(s.code[:31])
        sheet.append([safe_cell(f"{s.code} {year}"), f"as of {s.as_of.isoformat()}", s.currency])
        sheet.append(["month", "settled", "ytd", "target", "ratio"])
        for row in month_rows(s):
            sheet.append([row.month, row.settled, row.ytd, row.target, row.ratio])
            for column in (2, 3, 4):
                sheet.cell(sheet.max_row, column).number_format = _MONEY
            sheet.cell(sheet.max_row, 5).number_format = _RATIO
        # Operator series: never suppressed, so settled and the ratio are present.
        settled, ratio_at = Decimal(s.settled or 0), Decimal(s.progress_ratio or 0)
        sheet.append(["total", settled, settled, Decimal(s.target_amount), ratio_at])
        _sheet_widths(sheet, [12, 22, 22, 22, 12])
    banks = book.create_sheet("banks")
    banks.append(["target", "currency", "rank", "bank_id", "name", "settled", "share", "events", "last_event_received"])
    for target in league.targets:
        for entry in target.banks:
            received = entry.last_event_received.isoformat() if entry.last_event_received else ""
            # Bank names are typed by whoever registers a bank: never a live formula.
            banks.append(
                [
                    safe_cell(target.code),
                    target.currency,
                    entry.rank,
                    safe_cell(entry.bank_id),
                    safe_cell(entry.name),
                    Decimal(entry.settled),
                    Decimal(entry.share),
                    entry.events,
                    received,
                ]
            )
            banks.cell(banks.max_row, 6).number_format = _MONEY
            banks.cell(banks.max_row, 7).number_format = _RATIO
    _sheet_widths(banks, [24, 9, 6, 16, 40, 22, 10, 8, 34])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def render_csv(series: list[SeriesOut]) -> str:
    """The monthly table of every target, one row per (target, month)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["target", "currency", "month", "settled", "ytd", "target_amount", "ratio"])
    for s in series:
        for row in month_rows(s):
            writer.writerow(csv_row([s.code, s.currency, row.month, row.settled, row.ytd, row.target, row.ratio]))
    return buffer.getvalue()
