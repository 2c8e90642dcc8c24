from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from settlement_api.deps import OperatorDep, RuntimeDep
from settlement_api.operator.service import league
from settlement_api.report.service import XLSX_MEDIA, parse_report_query, render_csv, render_xlsx
from settlement_api.series.service import read_series
from settlement_core.problems import problem_responses

router = APIRouter(prefix="/v1", tags=["operator"])


@router.get(
    "/report",
    responses={
        200: {"content": {XLSX_MEDIA: {}, "text/csv": {}}, "description": "xlsx (default) or CSV"},
        **problem_responses(401, 403, 404, 422),
    },
    summary="Period report: monthly figures, YTD, target and ratio per target, and per bank (operator key)",
)
async def get_report(
    runtime: RuntimeDep,
    operator: OperatorDep,
    period: Annotated[str | None, Query(description="Year of the target windows, e.g. 2020")] = None,
    format: Annotated[str | None, Query(description="xlsx (default) | csv")] = None,
) -> Response:
    del operator
    today = runtime.today()
    query = parse_report_query(runtime.catalogue.targets, period=period, fmt=format, as_of=today)
    fx = await runtime.fx.table()
    series = await read_series(runtime.store, fx, list(query.series), runtime.settings.on_track_pace)
    name = f"settlement-report-{query.year}"
    if query.format == "csv":
        return Response(
            render_csv(series),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    body = render_xlsx(query.year, series, await league(runtime, today))
    return Response(body, media_type=XLSX_MEDIA, headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
