"""The status page (GET /), its data (GET /status.json, GET /status/series.json) and the
operator page (GET /operator).

Decision (docs/api.md, docs/security/api.md): the figures here are exactly those of
/v1/progress (for /status.json) and of the day and month /v1/progress/{code}/series of every
target at one as_of (for /status/series.json), for the same reader and under the same rules:
a key is needed unless PUBLIC_MODE is on, and anyone but an operator gets market-wide figures
under disclosure control (thin figures suppressed). The HTML embeds the figures only when
the request itself may read them (public mode, or a key in the Authorization header); in
private mode a browser gets the shell, which asks for a key (kept in sessionStorage, like
the operator page's) and then reads /status/series.json with it. The operator page is
static: it holds no figures and reads /v1/operator with the operator's key. Everything is
served locally (no CDN). STATUS_PAGE_ENABLED=false makes all of it 404.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse

from settlement_api.deps import DisclosureDep, RuntimeDep, optional_reader
from settlement_api.disclosure import Disclosure
from settlement_api.progress.schemas import ProgressOut
from settlement_api.progress.service import progress_report
from settlement_api.runtime import Runtime
from settlement_api.security import Reader
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


def embed(template: str, progress: ProgressOut | None) -> str:
    return embed_json(template, "__INITIAL_PROGRESS__", None if progress is None else progress.model_dump(mode="json"))


async def status_series(runtime: Runtime, as_of: str | None, disclosure: Disclosure) -> StatusSeriesOut:
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
    series = await read_series(
        runtime.store,
        await runtime.fx.table(),
        queries,
        runtime.settings.on_track_pace,
        disclosure,
        runtime.contributors,
    )
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
async def status_page(
    runtime: RuntimeDep, reader: Annotated[Reader | None, Depends(optional_reader)], as_of: AsOfQ = None
) -> HTMLResponse:
    _enabled(runtime)
    template = (STATIC / "index.html").read_text(encoding="utf-8")
    if reader is None:  # private mode, no key: the shell asks for one (app.js)
        return HTMLResponse(
            embed_json(embed(template, None), "__INITIAL_SERIES__", None), headers={"Cache-Control": "no-store"}
        )
    disclosure = Disclosure.for_reader(reader, runtime.settings.min_contributors)
    series = await status_series(runtime, as_of, disclosure)
    html = embed(template, await progress_report(runtime, None, disclosure=disclosure))
    html = embed_json(html, "__INITIAL_SERIES__", series.model_dump(mode="json"))
    # A keyed view is the key holder's: never kept by a shared cache.
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "Vary": "Authorization"})


@router.get("/status.json", response_model=ProgressOut)
async def status_json(runtime: RuntimeDep, disclosure: DisclosureDep) -> ProgressOut:
    _enabled(runtime)
    return await progress_report(runtime, None, disclosure=disclosure)


@router.get("/status/series.json", response_model=StatusSeriesOut)
async def status_series_json(runtime: RuntimeDep, disclosure: DisclosureDep, as_of: AsOfQ = None) -> StatusSeriesOut:
    _enabled(runtime)
    return await status_series(runtime, as_of, disclosure)


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
