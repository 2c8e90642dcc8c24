"""The status page (GET /), its data (GET /status.json, GET /status/series.json) and the
operator page (GET /operator).

Decision (docs/api.md): the public page needs figures without a key, so /status.json serves
exactly the body of /v1/progress for today, and /status/series.json the market-wide day and
month series of /v1/progress/{code}/series for every target at one as_of — the figures
public mode would show anyone, nothing per bank. The HTML embeds both so the page renders on
first paint, then refreshes. The operator page is static: it holds no figures and reads the
/v1/operator API with the key the operator types in, kept in sessionStorage only.
Everything is served locally (no CDN). STATUS_PAGE_ENABLED=false makes all of it 404.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse

from settlement_api.deps import RuntimeDep
from settlement_api.progress.schemas import ProgressOut
from settlement_api.progress.service import progress_report
from settlement_api.runtime import Runtime
from settlement_api.series.service import parse_series_query, read_series
from settlement_api.status_page.schemas import StatusSeriesOut, TargetSeriesOut
from settlement_core.buckets import Granularity
from settlement_core.problems import Problem

STATIC = Path(__file__).with_name("static")
router = APIRouter(include_in_schema=False)
MEDIA = {
    "app.js": "text/javascript",
    "charts.js": "text/javascript",
    "operator.js": "text/javascript",
    "style.css": "text/css",
}
AsOfQ = Annotated[str | None, Query(description="YYYY-MM-DD; default today")]


def _enabled(runtime: RuntimeDep) -> None:
    if not runtime.settings.status_page_enabled:
        raise Problem(404, "Not found", "The status page is disabled.")


def embed_json(template: str, placeholder: str, data: Any) -> str:
    # "</" would end the <script> element early; JSON allows the escaped form.
    return template.replace(placeholder, json.dumps(data, ensure_ascii=False).replace("</", "<\\/"))


def embed(template: str, progress: ProgressOut) -> str:
    return embed_json(template, "__INITIAL_PROGRESS__", progress.model_dump(mode="json"))


async def status_series(runtime: Runtime, as_of: str | None) -> StatusSeriesOut:
    """Every target's day and month series at one as_of, in one pipelined read."""
    today = runtime.today()
    queries = []
    for target in runtime.targets:
        for grain in (Granularity.DAY, Granularity.MONTH):
            queries.append(
                parse_series_query(
                    runtime.targets,
                    target.code,
                    period=str(target.window_start.year),
                    granularity=grain.value,
                    as_of=as_of,
                    today=today,
                )
            )
    series = await read_series(runtime.store, await runtime.fx.table(), queries, runtime.settings.on_track_pace)
    requested = queries[0].as_of
    return StatusSeriesOut(
        as_of=requested,
        today=today,
        timezone=runtime.settings.business_timezone,
        targets=[
            TargetSeriesOut(code=t.code, name_zh=t.name_zh, name_en=t.name_en, day=day, month=month)
            for t, day, month in zip(runtime.targets, series[0::2], series[1::2], strict=True)
        ],
    )


@router.get("/", response_class=HTMLResponse)
async def status_page(runtime: RuntimeDep, as_of: AsOfQ = None) -> HTMLResponse:
    _enabled(runtime)
    template = (STATIC / "index.html").read_text(encoding="utf-8")
    series = await status_series(runtime, as_of)
    html = embed(template, await progress_report(runtime, None))
    html = embed_json(html, "__INITIAL_SERIES__", series.model_dump(mode="json"))
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get("/status.json", response_model=ProgressOut)
async def status_json(runtime: RuntimeDep) -> ProgressOut:
    _enabled(runtime)
    return await progress_report(runtime, None)


@router.get("/status/series.json", response_model=StatusSeriesOut)
async def status_series_json(runtime: RuntimeDep, as_of: AsOfQ = None) -> StatusSeriesOut:
    _enabled(runtime)
    return await status_series(runtime, as_of)


@router.get("/operator", response_class=HTMLResponse)
async def operator_page(runtime: RuntimeDep) -> HTMLResponse:
    _enabled(runtime)
    return HTMLResponse((STATIC / "operator.html").read_text(encoding="utf-8"), headers={"Cache-Control": "no-store"})


@router.get("/static/{name}")
async def static_file(name: str, runtime: RuntimeDep) -> Response:
    _enabled(runtime)
    if name not in MEDIA:  # a fixed list: no path traversal possible
        raise Problem(404, "Not found", f"No static file {name!r}.")
    return Response(
        (STATIC / name).read_bytes(),
        media_type=f"{MEDIA[name]}; charset=utf-8",
        headers={"Cache-Control": "max-age=60"},
    )
