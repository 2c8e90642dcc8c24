"""Cumulative settled per point against the pace line, for one target's window.

Validation, planning and evaluation are pure; `read_series` runs the plans through one
pipelined read of the bucket store. Every point is read from the Redis buckets with the same `cover` as /v1/totals
(a day point is one day field, a month point one month field, clipped at as_of), never from
the ledger. Each point is rounded once and the cumulative curve is the running exact sum of
the rounded points, so the last cumulative value equals the sum of the points' `settled`.
"""

from __future__ import annotations

import calendar
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from settlement_api.kit.bucket_store import FigureStore, Seen
from settlement_api.kit.disclosure import (
    NOBODY,
    ContributorReader,
    Contributors,
    CurveSuppression,
    Disclosure,
    Extent,
    breakdown_hidden,
    protect_curve,
    protect_parts,
    read_contributors,
)
from settlement_api.kit.plan_units import amounts_by_currency, in_plan_unit, money, plan_unit_label
from settlement_api.kit.query import QueryErrors
from settlement_api.kit.readmodel import Amounts, ReadPlan, Stream, evaluate, plan_reads
from settlement_api.kit.spreadsheet_cells import csv_row
from settlement_api.progress.schemas import SUPPRESSED, SeriesOut, SeriesPointOut
from settlement_core.buckets import Granularity, period_label, series_periods
from settlement_core.catalogue import Target
from settlement_core.fx import FxTable
from settlement_core.money import minor_units
from settlement_core.pace import effective_as_of, elapsed_days, progress
from settlement_core.problems import FieldError, Problem

SERIES_GRAINS = (Granularity.DAY, Granularity.MONTH)
_YEAR = re.compile(r"[0-9]{4}")


@dataclass(frozen=True, slots=True)
class SeriesQuery:
    target: Target
    granularity: Granularity
    as_of: date  # as requested: a date after the window end makes a missed target read `behind`

    @property
    def capped(self) -> date:
        return effective_as_of(self.target, self.as_of)


def window_for(targets: Iterable[Target], code: str, year: int | None) -> Target | None:
    """The target window of `code` that starts in `year`; when None, its latest window.

    `targets` are the catalogue's, of every period: this is the single place that maps a
    period to a window."""
    found = [t for t in targets if t.code == code and (year is None or t.window_start.year == year)]
    return max(found, key=lambda t: t.window_end, default=None)


def parse_series_query(
    targets: tuple[Target, ...],
    code: str,
    *,
    period: str | None,
    granularity: str | None,
    as_of: str | None,
    today: date,
) -> SeriesQuery:
    if window_for(targets, code, None) is None:
        raise Problem(
            404,
            "Not found",
            f"No target {code!r}.",
            "not-found",
            [FieldError("#/path/code", "unknown target code")],
        )
    errors = QueryErrors()
    year: int | None = None
    if period is not None:
        if _YEAR.fullmatch(period):
            year = int(period)
        else:
            errors.add("period", f"{period!r} is not a year YYYY")
    grain = Granularity.DAY
    if granularity is not None:
        if granularity in {g.value for g in SERIES_GRAINS}:
            grain = Granularity(granularity)
        else:
            errors.add("granularity", f"{granularity!r} is not one of: day, month")
    day = errors.parse_date("as_of", as_of)
    errors.raise_if_any()
    target = window_for(targets, code, year)
    if target is None:
        raise Problem(
            404,
            "Not found",
            f"Target {code!r} has no window in {period}.",
            "not-found",
            [FieldError("#/query/period", "no target window starts in this year")],
        )
    return SeriesQuery(target, grain, day if day is not None else today)


@dataclass(frozen=True, slots=True)
class PlannedPoint:
    start: date
    end: date
    current: ReadPlan | None  # None: the point starts after as_of
    previous: ReadPlan | None  # month points only: the same month a year earlier


@dataclass(frozen=True, slots=True)
class TargetSeriesPlan:
    query: SeriesQuery
    points: tuple[PlannedPoint, ...]

    @property
    def fields(self) -> list[str]:
        names: dict[str, None] = {}
        for point in self.points:
            for planned in (point.current, point.previous):
                if planned is not None:
                    names.update(dict.fromkeys(planned.fields))
        return list(names)


def _same_month_a_year_earlier(day: date) -> tuple[date, date]:
    first = date(day.year - 1, day.month, 1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def plan_target_series(query: SeriesQuery, seen: Seen, fx: FxTable) -> TargetSeriesPlan:
    target = query.target
    code, currency = target.code, target.currency
    streams = [Stream(code, cur) for cur in seen.currencies(code)]
    capped = query.capped
    points: list[PlannedPoint] = []
    for start, end in series_periods(target.window_start, target.window_end, query.granularity):
        current = plan_reads(streams, start, min(end, capped), currency, fx) if start <= capped else None
        previous = None
        if query.granularity is Granularity.MONTH:
            previous = plan_reads(streams, *_same_month_a_year_earlier(start), currency, fx)
        points.append(PlannedPoint(start, end, current, previous))
    return TargetSeriesPlan(query, tuple(points))


def expected_at(target: Target, day: date) -> Decimal:
    """The pace line: target x elapsed fraction of the window at `day` (counting `day`), one
    exact division rounded half-even to the currency's minor unit."""
    with localcontext() as ctx:
        ctx.prec = 38
        exact = Decimal(target.amount) * elapsed_days(target, day) / target.window_days
    return exact.quantize(Decimal(1).scaleb(-minor_units(target.currency)), rounding=ROUND_HALF_EVEN)


def evaluate_target_series(series: TargetSeriesPlan, values: dict[str, int], on_track_pace: Decimal) -> SeriesOut:
    query = series.query
    target = query.target
    currency = target.currency
    cumulative = Decimal(0)
    unconverted: dict[str, int] = {}
    points: list[SeriesPointOut] = []
    for point in series.points:
        settled: Decimal | None = None
        if point.current is not None:
            amounts = evaluate(point.current, values, currency)
            settled = amounts.converted
            cumulative += settled
            for cur, units in amounts.unconverted_minor.items():
                unconverted[cur] = unconverted.get(cur, 0) + units
        previous = None if point.previous is None else evaluate(point.previous, values, currency).converted
        expected = expected_at(target, point.end)
        points.append(
            SeriesPointOut(
                period=period_label(point.start, query.granularity),
                start=point.start,
                end=point.end,
                settled=None if settled is None else money(settled, currency),
                cumulative=None if settled is None else money(cumulative, currency),
                cumulative_plan_unit=None if settled is None else in_plan_unit(cumulative),
                expected=money(expected, currency),
                expected_plan_unit=in_plan_unit(expected),
                previous=None if previous is None else money(previous, currency),
            )
        )
    result = progress(target, cumulative, query.as_of, on_track_pace)
    return SeriesOut(
        code=target.code,
        period=str(target.window_start.year),
        granularity=query.granularity.value,
        currency=currency,
        plan_unit=plan_unit_label(currency),
        window_start=target.window_start,
        window_end=target.window_end,
        as_of=result.as_of,
        target_amount=money(Decimal(target.amount), currency),
        target_amount_plan_unit=in_plan_unit(Decimal(target.amount)),
        settled=money(cumulative, currency),
        settled_plan_unit=in_plan_unit(cumulative),
        unconverted=amounts_by_currency(Amounts(currency, Decimal(0), {}, unconverted).unconverted()),
        progress_ratio=str(result.progress_ratio),
        expected_ratio=str(result.expected_ratio),
        pace=None if result.pace is None else str(result.pace),
        projected_total=None if result.projected_total is None else money(result.projected_total, currency),
        projected_total_plan_unit=None if result.projected_total is None else in_plan_unit(result.projected_total),
        status=result.status,
        points=points,
    )


PointKey = tuple[int, int, str]  # (series, point or month, "current" | "previous" | "month" | "window")


def _months_to(series: TargetSeriesPlan) -> list[tuple[date, date]]:
    """The window's months up to as_of, the last clipped there (a day series' groups)."""
    target, capped = series.query.target, series.query.capped
    return [
        (start, min(end, capped))
        for start, end in series_periods(target.window_start, target.window_end, Granularity.MONTH)
        if start <= capped
    ]


def series_extents(plans: list[TargetSeriesPlan]) -> dict[PointKey, Extent]:
    """The bucket extent of every figure of every point (pure): the point's dates up to
    as_of, and for month points the same month a year earlier; the window to as_of (the
    figure /v1/progress shows) and, for day series, its months (`protect_curve`'s groups)."""
    extents: dict[PointKey, Extent] = {}
    for s, series in enumerate(plans):
        target, capped = series.query.target, series.query.capped
        code = target.code
        extents[(s, 0, "window")] = Extent(code, target.window_start, capped)
        for i, point in enumerate(series.points):
            if point.current is not None:
                extents[(s, i, "current")] = Extent(code, point.start, min(point.end, capped))
            if point.previous is not None:
                extents[(s, i, "previous")] = Extent(code, *_same_month_a_year_earlier(point.start))
        if series.query.granularity is Granularity.DAY:
            for j, (start, end) in enumerate(_months_to(series)):
                extents[(s, j, "month")] = Extent(code, start, end)
    return extents


def _curve(
    out: SeriesOut, rule: Disclosure, current: list[Contributors], total: Contributors, months: list[Contributors]
) -> tuple[CurveSuppression, list[tuple[int, int]]]:
    """`protect_curve` of the shown points, and each point's (group, cell): a month series'
    months are their own single cells, a day series' days are grouped by month."""
    shown = [i for i, p in enumerate(out.points) if p.settled is not None]
    if out.granularity == Granularity.MONTH.value:
        curve = protect_curve(rule, total, [current[i] for i in shown], [[current[i]] for i in shown])
        return curve, [(g, 0) for g in range(len(shown))]
    cells: dict[tuple[int, int], list[Contributors]] = {}
    where: list[tuple[int, int]] = []
    for i in shown:
        day = out.points[i].start
        cells.setdefault((day.year, day.month), []).append(current[i])
        where.append((len(cells) - 1, len(cells[(day.year, day.month)]) - 1))
    return protect_curve(rule, total, months, list(cells.values())), where


def _previous_hidden(rule: Disclosure, previous: list[Contributors], upto: int) -> frozenset[int]:
    """The year-earlier months withheld: those to as_of's month add up to /v1/progress's
    previous-year figure, all of them to the previous window's, so each run is protected
    as the parts of a total (`protect_parts`); a thin month is always withheld."""
    hidden: set[int] = set()
    for first, parts in ((0, previous[:upto]), (upto, previous[upto:])):
        everyone = NOBODY
        for part in parts:
            everyone = everyone | part
        flags = protect_parts(rule, everyone, parts)
        hidden |= {first + i for i in flags.primary | flags.secondary}
    return frozenset(hidden)


def redact_series(
    out: SeriesOut,
    rule: Disclosure,
    current: list[Contributors],
    previous: list[Contributors],
    total: Contributors,
    months: list[Contributors] | None = None,
) -> SeriesOut:
    """Pure: the series as `rule` lets its reader see it. Its points, running totals and
    total are withheld together by `protect_curve` (kit/disclosure.py): not only is a
    point of fewer than MIN_CONTRIBUTORS banks withheld, but also whatever would give it
    away by subtraction, a running total included. `total` is the window's figure to as_of
    (as /v1/progress judges it), `months` a day series' months to as_of (a month series'
    are its points); `previous` is judged by the year-earlier months'."""
    curve, where = _curve(out, rule, current, total, months or [])
    running = NOBODY
    points: list[SeriesPointOut] = []
    cell = iter(where)
    upto = sum(1 for p in out.points if p.settled is not None)
    previous_hidden = _previous_hidden(rule, previous, upto) if rule.applies else frozenset()
    for i, (point, mine, before) in enumerate(zip(out.points, current, previous, strict=True)):
        update: dict[str, object] = {}
        if point.settled is not None:
            running = running | mine
            g, c = next(cell)
            if c in curve.cells[g]:
                update["settled"] = None
            if c not in curve.cumulative[g]:
                update.update({"cumulative": None, "cumulative_plan_unit": None})
        if point.previous is not None and i in previous_hidden:
            update["previous"] = None
        if update:
            thin = rule.hides(mine.count) or ("previous" in update and rule.hides(before.count))
            update.update({"suppressed": True, "suppressed_reason": rule.reason if thin else rule.secondary_reason})
        points.append(point.model_copy(update=update) if update else point)
    top: dict[str, object] = {"points": points}
    if curve.total_hidden:
        top.update(
            {
                "settled": None,
                "settled_plan_unit": None,
                "unconverted": {},
                "progress_ratio": None,
                "pace": None,
                "projected_total": None,
                "projected_total_plan_unit": None,
                "status": SUPPRESSED,
                "suppressed": True,
                "suppressed_reason": rule.reason,
            }
        )
    elif breakdown_hidden(rule, running, out.unconverted):
        top.update({"unconverted": {}, "breakdown_suppressed": True, "suppressed_reason": rule.reason})
    return out.model_copy(update=top)


async def read_series(
    store: FigureStore,
    fx: FxTable,
    queries: list[SeriesQuery],
    on_track_pace: Decimal,
    disclosure: Disclosure | None = None,
    contributors_from: ContributorReader | None = None,
) -> list[SeriesOut]:
    """Several series in one pipelined read (the status page asks for all six at once).
    `disclosure` None is the operator's view (nothing suppressed)."""
    seen = await store.seen()
    plans = [plan_target_series(q, seen, fx) for q in queries]
    values = await store.sum_fields(list(dict.fromkeys(f for p in plans for f in p.fields)))
    result = [evaluate_target_series(p, values, on_track_pace) for p in plans]
    if disclosure is None or not disclosure.applies:
        return result
    extents = series_extents(plans)
    if contributors_from is not None:
        contributors = await contributors_from.read(seen, extents)
    else:
        contributors = await read_contributors(store, seen, extents)
    return [
        redact_series(
            out,
            disclosure,
            [contributors.get((s, i, "current"), NOBODY) for i in range(len(out.points))],
            [contributors.get((s, i, "previous"), NOBODY) for i in range(len(out.points))],
            contributors[(s, 0, "window")],
            [contributors[key] for key in sorted(k for k in contributors if k[0] == s and k[2] == "month")],
        )
        for s, out in enumerate(result)
    ]


def render_series_csv(series: SeriesOut) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["period", "from", "to", "currency", "settled", "cumulative", "expected", "previous"]
    # Only a reader under disclosure control can get withheld cells: the column says why a
    # cell is empty (kit/disclosure.py) and is absent otherwise, as before.
    marked = any(p.suppressed for p in series.points) or series.suppressed
    writer.writerow([*header, "suppressed"] if marked else header)
    for p in series.points:
        row = [
            p.period,
            p.start.isoformat(),
            p.end.isoformat(),
            series.currency,
            p.settled or "",
            p.cumulative or "",
            p.expected,
            p.previous or "",
        ]
        writer.writerow(csv_row([*row, p.suppressed_reason or ""] if marked else row))
    return buffer.getvalue()
