"""Totals time series: validation, planning and evaluation are pure; `read_totals` runs one
plan through one pipelined read of the bucket store."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from settlement_api.kit.bucket_store import FigureStore, Seen
from settlement_api.kit.plan_units import amounts_by_currency, money
from settlement_api.kit.query import QueryErrors
from settlement_api.kit.readmodel import Amounts, ReadPlan, Stream, evaluate, plan_reads
from settlement_api.kit.spreadsheet_cells import csv_row
from settlement_api.settings import ApiSettings
from settlement_api.totals.schemas import AmountOut, PointOut, TotalsOut
from settlement_core.buckets import DISTINCT, Granularity, period_label, series_periods
from settlement_core.catalogue import Target
from settlement_core.fx import FxTable
from settlement_core.money import MINOR_UNITS
from settlement_core.problems import FieldError, Problem


@dataclass(frozen=True, slots=True)
class TotalsQuery:
    category: str | None
    granularity: Granularity
    start: date
    end: date
    currency: str
    bank_id: str | None

    @property
    def categories(self) -> tuple[str, ...]:
        """Without a category: every event once (the distinct volume). The categories'
        totals overlap (one payment may count toward several), so they are never summed."""
        return (self.category,) if self.category else (DISTINCT,)


def point_count(start: date, end: date, grain: Granularity) -> int:
    """Number of series points without building them (a huge range must fail fast)."""
    if end < start:
        return 0
    if grain is Granularity.DAY:
        return (end - start).days + 1
    if grain is Granularity.MONTH:
        return (end.year - start.year) * 12 + end.month - start.month + 1
    return end.year - start.year + 1


def max_points(settings: ApiSettings, grain: Granularity) -> int:
    return {
        Granularity.DAY: settings.max_points_day,
        Granularity.MONTH: settings.max_points_month,
        Granularity.YEAR: settings.max_points_year,
    }[grain]


def parse_totals_query(
    targets: tuple[Target, ...],
    settings: ApiSettings,
    *,
    category: str | None,
    granularity: str | None,
    start: str | None,
    end: str | None,
    currency: str | None,
    bank_id: str | None,
) -> TotalsQuery:
    errors = QueryErrors()
    target = None
    if category is not None:
        target = next((t for t in targets if t.code == category), None)
        if target is None:
            errors.add("category", f"unknown category {category!r}; one of: " + ", ".join(t.code for t in targets))
    grain = Granularity.MONTH
    if granularity is not None:
        try:
            grain = Granularity(granularity)
        except ValueError:
            errors.add("granularity", f"{granularity!r} is not one of: day, month, year")
    first = errors.parse_date("from", start)
    last = errors.parse_date("to", end)
    if currency is not None and currency not in MINOR_UNITS:
        errors.add("currency", f"unknown currency {currency!r}")
    errors.raise_if_any()
    # Defaults: the category's target window (every target's window when no category).
    window_start = target.window_start if target else min(t.window_start for t in targets)
    window_end = target.window_end if target else max(t.window_end for t in targets)
    first = first or window_start
    last = last or window_end
    if first > last:
        raise Problem(
            422,
            "Invalid range",
            f"from ({first}) is after to ({last}).",
            "invalid-range",
            [FieldError("#/query/from", "must not be after 'to'")],
        )
    count, cap = point_count(first, last, grain), max_points(settings, grain)
    if count > cap:
        raise Problem(
            422,
            "Range too large",
            f"{count} {grain.value} points requested; at most {cap} per request.",
            "range-too-large",
            [FieldError("#/query/to", f"at most {cap} {grain.value} points from 'from'")],
            extra={"max_points": cap},
        )
    default_currency = target.currency if target else "CNY"
    return TotalsQuery(category, grain, first, last, currency or default_currency, bank_id)


@dataclass(frozen=True, slots=True)
class TotalsSeriesPlan:
    query: TotalsQuery
    points: tuple[tuple[date, date, ReadPlan], ...]

    @property
    def fields(self) -> list[str]:
        return list(dict.fromkeys(name for _, _, p in self.points for name in p.fields))


def plan_series(query: TotalsQuery, seen: Seen, fx: FxTable) -> TotalsSeriesPlan:
    streams = [
        Stream(category, currency, query.bank_id)
        for category in query.categories
        for currency in seen.currencies(category)
    ]
    points = tuple(
        (s, e, plan_reads(streams, s, e, query.currency, fx))
        for s, e in series_periods(query.start, query.end, query.granularity)
    )
    return TotalsSeriesPlan(query, points)


def _amount_out(converted: Decimal, native: dict[str, int], unconverted: dict[str, int], currency: str) -> AmountOut:
    shown = Amounts(currency, Decimal(0), native, unconverted)
    return AmountOut(
        amount=money(converted, currency),
        by_currency=amounts_by_currency(shown.native()),
        unconverted=amounts_by_currency(shown.unconverted()),
    )


def evaluate_series(series: TotalsSeriesPlan, values: dict[str, int]) -> TotalsOut:
    """Each point is rounded once; the total is the exact sum of the rounded points, so the
    sum of the series always equals the total of the same response."""
    query = series.query
    points: list[PointOut] = []
    total = Decimal(0)
    native: dict[str, int] = {}
    unconverted: dict[str, int] = {}
    for start, end, planned in series.points:
        amounts = evaluate(planned, values, query.currency)
        converted = amounts.converted
        total += converted
        for cur, units in amounts.native_minor.items():
            native[cur] = native.get(cur, 0) + units
        for cur, units in amounts.unconverted_minor.items():
            unconverted[cur] = unconverted.get(cur, 0) + units
        out = _amount_out(converted, amounts.native_minor, amounts.unconverted_minor, query.currency)
        points.append(PointOut(period=period_label(start, query.granularity), start=start, end=end, **out.model_dump()))
    return TotalsOut(
        category=query.category,
        bank_id=query.bank_id,
        granularity=query.granularity.value,
        currency=query.currency,
        start=query.start,
        end=query.end,
        total=_amount_out(total, native, unconverted, query.currency),
        points=points,
    )


async def read_totals(store: FigureStore, fx: FxTable, query: TotalsQuery) -> TotalsOut:
    series = plan_series(query, await store.seen(), fx)
    return evaluate_series(series, await store.sum_fields(series.fields))


def render_csv(totals: TotalsOut) -> str:
    """One row per point: converted amount, then one column per original currency."""
    originals = sorted({c for p in totals.points for c in p.by_currency})
    missing = sorted({c for p in totals.points for c in p.unconverted})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        csv_row(
            [
                "period",
                "from",
                "to",
                "currency",
                "amount",
                *[f"amount_{c}" for c in originals],
                *[f"unconverted_{c}" for c in missing],
            ]
        )
    )
    for p in totals.points:
        writer.writerow(
            csv_row(
                [
                    p.period,
                    p.start.isoformat(),
                    p.end.isoformat(),
                    totals.currency,
                    p.amount,
                    *[p.by_currency.get(c, "") for c in originals],
                    *[p.unconverted.get(c, "") for c in missing],
                ]
            )
        )
    return buffer.getvalue()
