"""The export's reads: every target window's figures from the same services as
/v1/progress (progress/service.py: `read_report`, `shape_report`) and its month series
(progress/series.py), with their contributors (kit/disclosure.py), then shaped by
sdmx/cells.py and written by sdmx/render.py.

Knowledge time (issue 24 step 1) enters through one seam, the `figures_at` parameter of
`export`: a function giving the `Figures` exactly as known at an instant (the same reads
then run on them). Without one, SDMX `asOf` (the figures as known then) and `updatedAfter`
(the observations that differ between then and now) are answered 501. Wiring: the route
passes `figures_at` built from the known_at reads, and sets KNOWN_AT_READS (routes.py) so
the document lists both parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime

from settlement_api.kit.disclosure import Disclosure, Extent
from settlement_api.progress.series import PointKey, SeriesQuery, plan_target_series, read_series, series_extents
from settlement_api.progress.service import read_report, shape_report
from settlement_api.resources import Figures
from settlement_api.sdmx.cells import (
    Figure,
    Observation,
    StatusOf,
    Window,
    all_provisional,
    changed_since,
    in_series,
    in_span,
)
from settlement_api.sdmx.cells import observations as shape_observations
from settlement_api.sdmx.periods import Span
from settlement_api.sdmx.query import DataQuery
from settlement_core.buckets import Granularity
from settlement_core.catalogue import Target
from settlement_core.problems import FieldError, Problem

logger = logging.getLogger(__name__)

# The figures as known at an instant (kit/known_at.py once it exists): the seam for asOf
# and updatedAfter.
FiguresAt = Callable[[datetime], Awaitable[Figures]]


def not_supported(parameter: str) -> Problem:
    return Problem(
        501,
        "Not implemented",
        f"{parameter} needs knowledge-time reads (known_at), which this server does not offer yet.",
        "not-implemented",
        [FieldError(f"#/query/{parameter}", "not supported yet")],
    )


def calendar_year(target: Target) -> bool:
    start, end = target.window_start, target.window_end
    return (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year


async def read_windows(figures: Figures, periods: Sequence[str]) -> list[Window]:
    """Every target window of `periods` at the figures' today as as_of: its figure exactly
    as /v1/progress?period=P shows an operator, its months as the month series, and the
    contributors of each (the same extents /v1/progress and the series judge)."""
    fx = await figures.fx.table()
    settings, catalogue, as_of = figures.settings, figures.catalogue, figures.today
    windows: list[Window] = []
    for period in periods:
        report = await read_report(figures.store, fx, catalogue, as_of, period)
        rows = {
            r.code: r
            for r in shape_report(report, catalogue, settings.on_track_pace, settings.business_timezone).targets
        }
        targets = [t for t in report.targets if calendar_year(t)]
        if len(targets) < len(report.targets):
            logger.warning("sdmx: period %s has target windows that are not calendar years; not exported", period)
        queries = [SeriesQuery(t, Granularity.MONTH, as_of) for t in targets]
        series = await read_series(figures.store, fx, queries, settings.on_track_pace)
        plans = [plan_target_series(q, report.seen, fx) for q in queries]
        extents: dict[PointKey | str, Extent] = {}
        for key, extent in series_extents(plans).items():
            extents[key] = extent
        for t in targets:
            q = report.queries[t.code]
            extents[t.code] = Extent(q.category, q.start, q.end)
        found = await figures.contributors.read(report.seen, extents)
        for s, (target, months) in enumerate(zip(targets, series, strict=True)):
            settled = rows[target.code].settled
            if settled is None:  # shape_report is the operator's view: nothing is withheld in it
                raise RuntimeError(f"{target.code}: no settled figure in the unredacted report")
            year = Figure(
                str(target.window_start.year), Span(target.window_start, target.window_end), settled, found[target.code]
            )
            points = tuple(
                Figure(p.period, Span(p.start, p.end), p.settled, found[(s, i, "current")])
                for i, p in enumerate(months.points)
                if p.settled is not None
            )
            windows.append(Window(target, year, points))
    return windows


def periods_in(figures: Figures, start: date | None, end: date | None) -> list[str]:
    """The catalogue's target periods whose windows overlap [start, end]."""
    wanted = Span(start or date.min, end or date.max)
    return [
        p
        for p in figures.catalogue.periods
        if any(Span(t.window_start, t.window_end).overlaps(wanted) for t in figures.catalogue.targets_for(p))
    ]


async def export(
    figures: Figures,
    query: DataQuery,
    reader: Disclosure,
    status_of: StatusOf = all_provisional,
    figures_at: FiguresAt | None = None,
) -> list[Observation]:
    """The observations of one data query, as `reader` may see them: at `query.as_of` when
    given, and only those that changed after `query.updated_after` when given."""
    for name, instant in (("asOf", query.as_of), ("updatedAfter", query.updated_after)):
        if instant is not None and figures_at is None:
            raise not_supported(name)
    periods = periods_in(figures, query.start, query.end)
    if query.as_of is not None and figures_at is not None:
        figures = await figures_at(query.as_of)
    now = shape_observations(await read_windows(figures, periods), reader, status_of)
    if query.updated_after is not None and figures_at is not None:
        then = await figures_at(query.updated_after)
        now = changed_since(now, shape_observations(await read_windows(then, periods), reader, status_of))
    return in_series(in_span(now, query.start, query.end), query.key)
