"""The status page's figures (GET /, /status.json, /status/series.json): exactly those of
/v1/progress and of the day and month /v1/progress/{code}/series of every current target at
one as_of, for the same reader."""

from __future__ import annotations

from datetime import date

from settlement_api.kit.disclosure import Disclosure
from settlement_api.progress.schemas import ProgressOut, StatusSeriesOut, TargetSeriesOut
from settlement_api.progress.series import parse_series_query, read_series
from settlement_api.progress.service import progress_report
from settlement_api.resources import Figures
from settlement_api.settings import ApiSettings
from settlement_core.buckets import Granularity
from settlement_core.problems import Problem


def require_status_page(settings: ApiSettings) -> None:
    """STATUS_PAGE_ENABLED=false: the status page, its JSON and its files are 404."""
    if not settings.status_page_enabled:
        raise Problem(404, "Not found", "The status page is disabled.")


async def figures_progress(
    figures: Figures, as_of: date, disclosure: Disclosure, period: str | None = None
) -> ProgressOut:
    """/v1/progress for one reader (also /status.json and the page's embedded figures)."""
    fx = await figures.fx.table()
    return await progress_report(
        figures.store, fx, figures.contributors, figures.catalogue, figures.settings, as_of, disclosure, period
    )


async def status_series(figures: Figures, as_of: str | None, disclosure: Disclosure) -> StatusSeriesOut:
    """Every target's day and month series at one as_of, in one pipelined read."""
    targets = figures.targets
    queries = []
    for target in targets:
        for grain in (Granularity.DAY, Granularity.MONTH):
            queries.append(
                parse_series_query(
                    targets,
                    target.code,
                    period=str(target.window_start.year),
                    granularity=grain.value,
                    as_of=as_of,
                    today=figures.today,
                )
            )
    fx = await figures.fx.table()
    pace = figures.settings.on_track_pace
    series = await read_series(figures.store, fx, queries, pace, disclosure, figures.contributors)
    return StatusSeriesOut(
        as_of=queries[0].as_of,
        today=figures.today,
        timezone=figures.settings.business_timezone,
        targets=[
            TargetSeriesOut(code=t.code, name_zh=t.name_zh, name_en=t.name_en, day=day, month=month)
            for t, day, month in zip(targets, series[0::2], series[1::2], strict=True)
        ],
    )
