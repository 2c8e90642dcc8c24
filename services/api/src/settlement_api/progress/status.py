"""The status page's series (GET /status/series.json and the page itself): the day and month
series of every current target at one as_of, exactly those of /v1/progress/{code}/series."""

from __future__ import annotations

from datetime import date

from settlement_api.kit.bucket_store import BucketStore
from settlement_api.kit.disclosure import ContributorReader, Disclosure
from settlement_api.progress.schemas import StatusSeriesOut, TargetSeriesOut
from settlement_api.progress.series import parse_series_query, read_series
from settlement_api.settings import ApiSettings
from settlement_core.buckets import Granularity
from settlement_core.fx import FxTable
from settlement_core.problems import Problem
from settlement_core.targets import Target


def require_status_page(settings: ApiSettings) -> None:
    """STATUS_PAGE_ENABLED=false: the status page, its JSON and its files are 404."""
    if not settings.status_page_enabled:
        raise Problem(404, "Not found", "The status page is disabled.")


async def status_series(
    store: BucketStore,
    fx: FxTable,
    contributors: ContributorReader,
    targets: tuple[Target, ...],
    settings: ApiSettings,
    today: date,
    as_of: str | None,
    disclosure: Disclosure,
) -> StatusSeriesOut:
    """Every target's day and month series at one as_of, in one pipelined read."""
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
                    today=today,
                )
            )
    series = await read_series(store, fx, queries, settings.on_track_pace, disclosure, contributors)
    requested = queries[0].as_of
    return StatusSeriesOut(
        as_of=requested,
        today=today,
        timezone=settings.business_timezone,
        targets=[
            TargetSeriesOut(code=t.code, name_zh=t.name_zh, name_en=t.name_en, day=day, month=month)
            for t, day, month in zip(targets, series[0::2], series[1::2], strict=True)
        ],
    )
