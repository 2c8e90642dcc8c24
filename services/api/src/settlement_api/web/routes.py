"""The status page (GET /), the operator page (GET /operator) and their static files.

Decision (docs/api.md, docs/security/api.md): the figures here are exactly those of
/status.json and /status/series.json (progress/routes.py), which are those of /v1/progress
and of the day and month /v1/progress/{code}/series of every target at one as_of, for the
same reader and under the same rules: a key is needed unless PUBLIC_MODE is on, and anyone
but an operator gets market-wide figures under disclosure control (thin figures
suppressed). The HTML embeds the figures only when the request itself may read them (public
mode, or a key in the Authorization header); in private mode a browser gets the shell,
which asks for a key (kept in sessionStorage, like the operator page's) and then reads
/status/series.json with it. The operator page is static: it holds no figures and reads
/v1/operator with the operator's key. Everything is served locally (no CDN).
STATUS_PAGE_ENABLED=false makes all of it 404.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse

from settlement_api.deps import FiguresDep, OptionalReaderDep, SettingsDep
from settlement_api.kit.disclosure import Disclosure
from settlement_api.progress.schemas import ProgressOut
from settlement_api.progress.status import figures_progress, require_status_page, status_series
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


def embed_json(template: str, placeholder: str, data: Any) -> str:
    # "</" would end the <script> element early; JSON allows the escaped form.
    return template.replace(placeholder, json.dumps(data, ensure_ascii=False).replace("</", "<\\/"))


def embed(template: str, progress: ProgressOut | None) -> str:
    return embed_json(template, "__INITIAL_PROGRESS__", None if progress is None else progress.model_dump(mode="json"))


@router.get("/", response_class=HTMLResponse)
async def status_page(figures: FiguresDep, reader: OptionalReaderDep, as_of: AsOfQ = None) -> HTMLResponse:
    require_status_page(figures.settings)
    template = (STATIC / "index.html").read_text(encoding="utf-8")
    if reader is None:  # private mode, no key: the shell asks for one (app.js)
        return HTMLResponse(
            embed_json(embed(template, None), "__INITIAL_SERIES__", None), headers={"Cache-Control": "no-store"}
        )
    disclosure = Disclosure.for_reader(reader, figures.settings.min_contributors)
    series = await status_series(figures, as_of, disclosure)
    html = embed(template, await figures_progress(figures, figures.today, disclosure))
    html = embed_json(html, "__INITIAL_SERIES__", series.model_dump(mode="json"))
    # A keyed view is the key holder's: never kept by a shared cache.
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "Vary": "Authorization"})


@router.get("/operator", response_class=HTMLResponse)
async def operator_page(settings: SettingsDep) -> HTMLResponse:
    require_status_page(settings)
    return HTMLResponse((STATIC / "operator.html").read_text(encoding="utf-8"), headers={"Cache-Control": "no-store"})


@router.get("/static/{name}")
async def static_file(name: str, settings: SettingsDep) -> Response:
    require_status_page(settings)
    if name not in MEDIA:  # a fixed list: no path traversal possible
        raise Problem(404, "Not found", f"No static file {name!r}.")
    return Response(
        (STATIC / name).read_bytes(),
        media_type=f"{MEDIA[name]}; charset=utf-8",
        headers={"Cache-Control": "max-age=60"},
    )
