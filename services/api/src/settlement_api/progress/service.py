"""Progress of one target period: the figures read (`read_report`, through settled.py) and
their pure shaping into the response (`shape_report`), redacted per reader (`redact_report`).

The figures of a report come from one Redis read: each target's window up to as_of, the
same dates one year earlier (`previous_period_settled`), and the distinct volume (every
event once, CNY) over the period's window. The targets' totals overlap and are never added.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from settlement_api.kit.bucket_store import FigureStore, Seen
from settlement_api.kit.disclosure import ContributorReader, Contributors, Disclosure, Extent, breakdown_hidden
from settlement_api.kit.plan_units import amounts_by_currency, in_plan_unit, money, plan_unit_label
from settlement_api.progress.schemas import (
    SUPPRESSED,
    DistinctVolumeOut,
    ProgressOut,
    ReferenceOut,
    TargetProgressOut,
)
from settlement_api.progress.settled import Settled, SettledQuery, settled_amounts
from settlement_api.settings import ApiSettings
from settlement_core.buckets import DISTINCT
from settlement_core.catalogue import Catalogue, Reference, Target
from settlement_core.fx import BASE, FxTable
from settlement_core.pace import RATIO_QUANTUM, effective_as_of, progress


def year_earlier(day: date) -> date:
    """The same date a year before (29 February becomes the 28th); nothing precedes year 1,
    so its dates stay at date.min (an `as_of` of 0001-01-01 is a valid, empty query)."""
    if day.year == 1:
        return date.min
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def reference_out(ref: Reference) -> ReferenceOut:
    return ReferenceOut(
        code=ref.code,
        period=ref.period,
        kind=ref.kind.value,
        amount=money(Decimal(ref.amount), ref.currency),
        currency=ref.currency,
        display=ref.display,
        window_start=ref.window_start,
        window_end=ref.window_end,
        source=ref.source,
        note=ref.note,
    )


def _change(settled: Decimal, previous: Settled | None, currency: str) -> tuple[str | None, str | None, str | None]:
    if previous is None:
        return None, None, None
    before = previous.amounts.converted
    change = settled - before
    ratio = None
    if before:
        with localcontext() as ctx:
            ctx.prec = 38
            ratio = str((change / before).quantize(RATIO_QUANTUM, rounding=ROUND_HALF_EVEN))
    return money(before, currency), money(change, currency), ratio


def target_progress(
    target: Target,
    settled: Settled,
    as_of: date,
    on_track_pace: Decimal,
    previous: Settled | None = None,
    references: tuple[Reference, ...] = (),
) -> TargetProgressOut:
    """Pure: one target's progress row. `as_of` is the requested date: settlement_core.pace
    caps it at the window end, and a closed window reads achieved or missed."""
    amount = settled.amounts.converted
    result = progress(target, amount, as_of, on_track_pace)
    currency = target.currency
    previous_settled, change, change_ratio = _change(amount, previous, currency)
    return TargetProgressOut(
        code=target.code,
        period=target.period,
        name_zh=target.name_zh,
        name_en=target.name_en,
        currency=currency,
        plan_unit=plan_unit_label(currency),
        display=target.display,
        window_start=target.window_start,
        window_end=target.window_end,
        as_of=result.as_of,
        target_amount=money(Decimal(target.amount), currency),
        target_amount_plan_unit=in_plan_unit(Decimal(target.amount)),
        settled=money(amount, currency),
        settled_plan_unit=in_plan_unit(amount),
        settled_by_currency=amounts_by_currency(settled.amounts.native()),
        unconverted=amounts_by_currency(settled.amounts.unconverted()),
        progress_ratio=str(result.progress_ratio),
        expected_ratio=str(result.expected_ratio),
        pace=None if result.pace is None else str(result.pace),
        projected_total=None if result.projected_total is None else money(result.projected_total, currency),
        projected_total_plan_unit=None if result.projected_total is None else in_plan_unit(result.projected_total),
        status=result.status,
        events_counted=settled.events_counted,
        previous_period_settled=previous_settled,
        change=change,
        change_ratio=change_ratio,
        references=[reference_out(r) for r in references],
    )


def report_queries(targets: tuple[Target, ...], as_of: date) -> dict[str, SettledQuery]:
    """Every figure of a report: `<code>` (the window to as_of), `<code>:previous` (the same
    dates a year earlier) and `*` (the distinct volume over the period's whole window)."""
    queries: dict[str, SettledQuery] = {}
    for t in targets:
        end = effective_as_of(t, as_of)
        queries[t.code] = SettledQuery(t.code, t.currency, t.window_start, end)
        queries[t.code + ":previous"] = SettledQuery(
            t.code, t.currency, year_earlier(t.window_start), year_earlier(end)
        )
    start = min(t.window_start for t in targets)
    end = min(as_of, max(t.window_end for t in targets))
    queries[DISTINCT] = SettledQuery(DISTINCT, BASE, start, end)
    # History covers the previous year when any event of that year was recorded.
    queries[DISTINCT + ":previous"] = SettledQuery(DISTINCT, BASE, year_earlier(start), year_earlier(end))
    return queries


def distinct_out(settled: Settled, query: SettledQuery) -> DistinctVolumeOut:
    amount = settled.amounts.converted
    return DistinctVolumeOut(
        currency=query.currency,
        window_start=query.start,
        as_of=query.end,
        amount=money(amount, query.currency),
        amount_plan_unit=in_plan_unit(amount),
        by_currency=amounts_by_currency(settled.amounts.native()),
        unconverted=amounts_by_currency(settled.amounts.unconverted()),
        events_counted=settled.events_counted,
    )


def resolve_period(catalogue: Catalogue, period: str | None) -> str | None:
    """The requested period, the latest when none is asked for, None when unknown."""
    if period is None:
        return catalogue.latest_period
    return period if period in catalogue.periods else None


def redact_target(
    out: TargetProgressOut, rule: Disclosure, current: Contributors, previous: Contributors
) -> TargetProgressOut:
    """Pure: one target's row as `rule` lets its reader see it (kit/disclosure.py)."""
    update: dict[str, object] = {}
    if rule.hides(current.count):
        update = {
            "settled": None,
            "settled_plan_unit": None,
            "settled_by_currency": {},
            "unconverted": {},
            "progress_ratio": None,
            "pace": None,
            "projected_total": None,
            "projected_total_plan_unit": None,
            "status": SUPPRESSED,
            "events_counted": None,
            "change": None,
            "change_ratio": None,
            "suppressed": True,
            "suppressed_reason": rule.reason,
        }
    elif breakdown_hidden(rule, current, out.settled_by_currency):
        update = {"settled_by_currency": {}, "unconverted": {}, "breakdown_suppressed": True}
    if out.previous_period_settled is not None and rule.hides(previous.count):
        update.update(
            {"previous_period_settled": None, "change": None, "change_ratio": None, "previous_suppressed": True}
        )
    if update and "suppressed_reason" not in update:
        update["suppressed_reason"] = rule.reason
    return out.model_copy(update=update) if update else out


def redact_distinct(out: DistinctVolumeOut, rule: Disclosure, current: Contributors) -> DistinctVolumeOut:
    if rule.hides(current.count):
        return out.model_copy(
            update={
                "amount": None,
                "amount_plan_unit": None,
                "by_currency": {},
                "unconverted": {},
                "events_counted": None,
                "suppressed": True,
                "suppressed_reason": rule.reason,
            }
        )
    if breakdown_hidden(rule, current, out.by_currency):
        return out.model_copy(
            update={
                "by_currency": {},
                "unconverted": {},
                "breakdown_suppressed": True,
                "suppressed_reason": rule.reason,
            }
        )
    return out


@dataclass(frozen=True, slots=True)
class ReportFigures:
    """Every figure of one report as domain values, before any shaping: what /v1/progress
    shows and what the metrics collector exports."""

    period: str
    as_of: date  # as requested: each target caps it at its window end
    targets: tuple[Target, ...]
    queries: dict[str, SettledQuery]
    settled: dict[str, Settled]
    seen: Seen

    @property
    def covers_previous_year(self) -> bool:
        """Events of the previous year exist: the history covers it."""
        before = self.settled[DISTINCT + ":previous"]
        return before.events_counted != 0 or any(before.amounts.native_minor.values())


async def read_report(
    store: FigureStore, fx: FxTable, catalogue: Catalogue, as_of: date, period: str | None = None
) -> ReportFigures:
    """`period` must be one of the catalogue's (the route checks); default the latest."""
    chosen = period or catalogue.latest_period
    targets = catalogue.targets_for(chosen)
    queries = report_queries(targets, as_of)
    seen = await store.seen()
    return ReportFigures(chosen, as_of, targets, queries, await settled_amounts(store, fx, queries, seen), seen)


def shape_report(figures: ReportFigures, catalogue: Catalogue, on_track_pace: Decimal, timezone: str) -> ProgressOut:
    """Pure: the figures as the operator sees them (nothing suppressed)."""
    settled = figures.settled
    covered = figures.covers_previous_year
    return ProgressOut(
        as_of=figures.as_of,
        period=figures.period,
        periods=list(catalogue.periods),
        timezone=timezone,
        on_track_pace=str(on_track_pace),
        targets=[
            target_progress(
                t,
                settled[t.code],
                figures.as_of,
                on_track_pace,
                settled[t.code + ":previous"] if covered else None,
                catalogue.references_for(t.code),
            )
            for t in figures.targets
        ],
        distinct_volume=distinct_out(settled[DISTINCT], figures.queries[DISTINCT]),
    )


async def redact_report(
    report: ProgressOut, figures: ReportFigures, disclosure: Disclosure, contributors: ContributorReader
) -> ProgressOut:
    """The report as `disclosure` lets its reader see it (kit/disclosure.py)."""
    if not disclosure.applies:
        return report
    extents = {key: Extent(q.category, q.start, q.end) for key, q in figures.queries.items()}
    found = await contributors.read(figures.seen, extents)
    return report.model_copy(
        update={
            "targets": [
                redact_target(row, disclosure, found[row.code], found[row.code + ":previous"]) for row in report.targets
            ],
            "distinct_volume": redact_distinct(report.distinct_volume, disclosure, found[DISTINCT]),
        }
    )


async def progress_report(
    store: FigureStore,
    fx: FxTable,
    contributors: ContributorReader,
    catalogue: Catalogue,
    settings: ApiSettings,
    as_of: date,
    disclosure: Disclosure,
    period: str | None = None,
) -> ProgressOut:
    """/v1/progress (and /status.json, the status page) for one reader."""
    figures = await read_report(store, fx, catalogue, as_of, period)
    report = shape_report(figures, catalogue, settings.on_track_pace, settings.business_timezone)
    return await redact_report(report, figures, disclosure, contributors)
