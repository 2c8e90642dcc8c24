from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from settlement_api.deps import DisclosureDep, RuntimeDep
from settlement_api.http_cache import cached_response
from settlement_api.series.schemas import SeriesOut
from settlement_api.series.service import parse_series_query, read_series, render_series_csv
from settlement_api.totals.routes import TOTALS_RESPONSES, wants_csv
from settlement_core.problems import problem_responses

router = APIRouter(prefix="/v1", tags=["progress"])

SERIES_RESPONSES = {**TOTALS_RESPONSES, **problem_responses(401, 404, 422)}


@router.get(
    "/progress/{code}/series",
    response_model=SeriesOut,
    responses=SERIES_RESPONSES,
    summary="Cumulative settled per day or month against the pace line, for one target",
)
async def get_series(
    code: str,
    runtime: RuntimeDep,
    disclosure: DisclosureDep,
    period: Annotated[str | None, Query(description="Year of the target window, e.g. 2020")] = None,
    granularity: Annotated[str | None, Query(description="day | month (default day)")] = None,
    as_of: Annotated[
        str | None, Query(description="YYYY-MM-DD; default today (Asia/Shanghai); the curve stops here")
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    query = parse_series_query(
        runtime.catalogue.targets, code, period=period, granularity=granularity, as_of=as_of, today=runtime.today()
    )
    # Market-wide like /v1/progress; thin figures suppressed for non-operators (disclosure.py).
    (series,) = await read_series(
        runtime.store,
        await runtime.fx.table(),
        [query],
        runtime.settings.on_track_pace,
        disclosure,
        runtime.contributors,
    )
    if wants_csv(accept):
        return cached_response(render_series_csv(series).encode(), "text/csv; charset=utf-8", if_none_match)
    return cached_response(series.model_dump_json().encode(), "application/json", if_none_match)
