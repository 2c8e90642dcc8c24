"""The market-wide figures: GET /v1/targets, /v1/progress, /v1/progress/{code}/series, the
period report GET /v1/report (operator key), and the status page's JSON (/status.json,
/status/series.json: the same figures for the same reader, docs/security/api.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from settlement_api.deps import (
    CatalogueDep,
    DisclosureDep,
    EngineDep,
    FiguresDep,
    OperatorDep,
    PublicReaderDep,
    SessionsDep,
)
from settlement_api.kit.http_cache import CSV_OR_JSON, SeriesRepresentationDep
from settlement_api.kit.known_at import KnownAtQ, at_knowledge_time, parse_known_at
from settlement_api.kit.query import QueryErrors
from settlement_api.ledger.operator import league
from settlement_api.progress.catalogue import list_targets
from settlement_api.progress.period_report import XLSX_MEDIA, parse_report_query, render_csv, render_xlsx
from settlement_api.progress.schemas import ProgressOut, SeriesOut, StatusSeriesOut, TargetsOut
from settlement_api.progress.series import parse_series_query, read_series, render_series_csv
from settlement_api.progress.service import resolve_period
from settlement_api.progress.status import figures_progress, require_status_page, status_series
from settlement_api.releases.service import with_observation_status
from settlement_core.problems import problem_responses

router = APIRouter()

SERIES_RESPONSES = {**CSV_OR_JSON, **problem_responses(401, 404, 422)}
AsOfQ = Annotated[str | None, Query(description="YYYY-MM-DD; default today")]


@router.get(
    "/v1/targets",
    response_model=TargetsOut,
    responses=problem_responses(401),
    summary="The catalogue: every target period, categories, rules and reference figures",
    tags=["targets"],
)
async def get_targets(catalogue: CatalogueDep, reader: PublicReaderDep) -> TargetsOut:
    del reader  # authorisation only
    return list_targets(catalogue)


@router.get(
    "/v1/progress",
    response_model=ProgressOut,
    responses=problem_responses(401, 422),
    summary="Progress toward the targets of one period",
    tags=["progress"],
)
async def get_progress(
    figures: FiguresDep,
    engine: EngineDep,
    sessions: SessionsDep,
    disclosure: DisclosureDep,
    as_of: Annotated[
        str | None, Query(description="YYYY-MM-DD; default today (Asia/Shanghai); capped at each target's window end")
    ] = None,
    period: Annotated[
        str | None, Query(description="A target period of GET /v1/targets, e.g. 2020; default the latest")
    ] = None,
    known_at: KnownAtQ = None,
) -> ProgressOut:
    at = parse_known_at(known_at)  # a bad value is refused before anything is read
    errors = QueryErrors()
    day = errors.parse_date("as_of", as_of)
    chosen = resolve_period(figures.catalogue, period)
    if chosen is None:
        errors.add("period", f"unknown period {period!r}; one of: " + ", ".join(figures.catalogue.periods))
    errors.raise_if_any()
    figures = await at_knowledge_time(figures, engine, known_at)
    # Market-wide, never per bank; thin figures suppressed for non-operators (kit/disclosure.py),
    # decided on the contributors known at `known_at` when it is given.
    report = await figures_progress(figures, day if day is not None else figures.today, disclosure, chosen)
    return await with_observation_status(report, sessions, at)


@router.get(
    "/v1/progress/{code}/series",
    response_model=SeriesOut,
    responses=SERIES_RESPONSES,
    summary="Cumulative settled per day or month against the pace line, for one target",
    tags=["progress"],
)
async def get_series(
    code: str,
    figures: FiguresDep,
    engine: EngineDep,
    disclosure: DisclosureDep,
    representation: SeriesRepresentationDep,
    period: Annotated[str | None, Query(description="Year of the target window, e.g. 2020")] = None,
    granularity: Annotated[str | None, Query(description="day | month (default day)")] = None,
    as_of: Annotated[
        str | None, Query(description="YYYY-MM-DD; default today (Asia/Shanghai); the curve stops here")
    ] = None,
    known_at: KnownAtQ = None,
) -> Response:
    parse_known_at(known_at)  # a bad value is refused before anything is read
    parse_series_query(
        figures.catalogue.targets, code, period=period, granularity=granularity, as_of=as_of, today=figures.today
    )
    # as known at `known_at`: also its business date as today (the curve's default end).
    figures = await at_knowledge_time(figures, engine, known_at)
    query = parse_series_query(
        figures.catalogue.targets, code, period=period, granularity=granularity, as_of=as_of, today=figures.today
    )
    # Market-wide like /v1/progress; thin figures suppressed for non-operators (kit/disclosure.py).
    fx, pace = await figures.fx.table(), figures.settings.on_track_pace
    (series,) = await read_series(figures.store, fx, [query], pace, disclosure, figures.contributors)
    return representation.respond(series, lambda: render_series_csv(series))


@router.get(
    "/v1/report",
    responses={
        200: {"content": {XLSX_MEDIA: {}, "text/csv": {}}, "description": "xlsx (default) or CSV"},
        **problem_responses(401, 403, 404, 422),
    },
    summary="Period report: monthly figures, YTD, target and ratio per target, and per bank (operator key)",
    tags=["operator"],
)
async def get_report(
    figures: FiguresDep,
    sessions: SessionsDep,
    operator: OperatorDep,
    period: Annotated[str | None, Query(description="Year of the target windows, e.g. 2020")] = None,
    format: Annotated[str | None, Query(description="xlsx (default) | csv")] = None,
) -> Response:
    del operator
    query = parse_report_query(figures.catalogue.targets, period=period, fmt=format, as_of=figures.today)
    table = await figures.fx.table()
    series = await read_series(figures.store, table, list(query.series), figures.settings.on_track_pace)
    name = f"settlement-report-{query.year}"
    if query.format == "csv":
        return Response(
            render_csv(series),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    rules = figures.catalogue.rules
    banks = await league(figures.store, table, sessions, figures.targets, rules, figures.today)
    body = render_xlsx(query.year, series, banks)
    return Response(body, media_type=XLSX_MEDIA, headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@router.get("/status.json", response_model=ProgressOut, include_in_schema=False)
async def status_json(figures: FiguresDep, sessions: SessionsDep, disclosure: DisclosureDep) -> ProgressOut:
    require_status_page(figures.settings)
    return await with_observation_status(await figures_progress(figures, figures.today, disclosure), sessions, None)


@router.get("/status/series.json", response_model=StatusSeriesOut, include_in_schema=False)
async def status_series_json(figures: FiguresDep, disclosure: DisclosureDep, as_of: AsOfQ = None) -> StatusSeriesOut:
    require_status_page(figures.settings)
    return await status_series(figures, as_of, disclosure)
