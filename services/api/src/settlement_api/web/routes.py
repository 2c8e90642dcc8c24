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

Charts: Apache ECharts, installed by `make install` (deploy/local/web_vendor.sh, from
web/vendor/package-lock.json) and served from here at a versioned URL, so a browser may keep
it for a year. Without the file (install not run) the pages carry no script tag for it, the
URL is a 404 problem, and the page shows its figures with "charts unavailable".
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from settlement_api.deps import FiguresDep, OptionalReaderDep, SettingsDep
from settlement_api.kit.disclosure import Disclosure
from settlement_api.progress.schemas import ProgressOut
from settlement_api.progress.status import figures_progress, require_status_page, status_series
from settlement_core.problems import Problem

STATIC = Path(__file__).with_name("static")
router = APIRouter(include_in_schema=False)
VENDOR = Path(__file__).with_name("vendor")
MEDIA = {
    "app.js": "text/javascript",
    "charts.js": "text/javascript",
    "format.js": "text/javascript",
    "operator.js": "text/javascript",
    "style.css": "text/css",
}
AsOfQ = Annotated[str | None, Query(description="YYYY-MM-DD; default today")]
ECHARTS_PLACEHOLDER = "<!--__ECHARTS__-->"
# The common build (line, bar, tooltip, toolbox, markLine: all the page uses): 715,020 bytes
# against 1,121,883 for the full echarts.min.js of 6.1.0; 238 KB gzipped.
ECHARTS_DIST = "echarts.common.min.js"
# A versioned file never changes under its URL (web_vendor.sh copies a new version under a
# new name): a year, immutable. The page's own files change with a deploy: a minute.
IMMUTABLE = "public, max-age=31536000, immutable"


@cache
def echarts_version() -> str:
    """The pinned version, from the lock the install uses (so the URL changes with it)."""
    lock = json.loads((VENDOR / "package-lock.json").read_text(encoding="utf-8"))
    version: str = lock["packages"]["node_modules/echarts"]["version"]
    return version


def echarts_url() -> str:
    return f"/static/vendor/echarts-{echarts_version()}.common.min.js"


def with_echarts(template: str) -> str:
    """The script tag of the chart library, or none when it is not installed."""
    tag = f'<script src="{echarts_url()}"></script>' if (VENDOR / ECHARTS_DIST).is_file() else ""
    return template.replace(ECHARTS_PLACEHOLDER, tag)


@cache
def _gzipped(path: Path, mtime_ns: int, size: int) -> bytes:
    del mtime_ns, size  # the cache key: a re-installed file is compressed again
    # mtime=0: the same bytes on every replica, so ETags and caches agree.
    return gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)


def embed_json(template: str, placeholder: str, data: Any) -> str:
    # "</" would end the <script> element early; JSON allows the escaped form.
    return template.replace(placeholder, json.dumps(data, ensure_ascii=False).replace("</", "<\\/"))


def embed(template: str, progress: ProgressOut | None) -> str:
    return embed_json(template, "__INITIAL_PROGRESS__", None if progress is None else progress.model_dump(mode="json"))


@router.get("/", response_class=HTMLResponse)
async def status_page(figures: FiguresDep, reader: OptionalReaderDep, as_of: AsOfQ = None) -> HTMLResponse:
    require_status_page(figures.settings)
    template = with_echarts((STATIC / "index.html").read_text(encoding="utf-8"))
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


@router.get("/static/vendor/{name}")
async def vendor_file(name: str, request: Request, settings: SettingsDep) -> Response:
    require_status_page(settings)
    path = VENDOR / ECHARTS_DIST
    if name != echarts_url().rsplit("/", 1)[1]:  # one fixed name: no path traversal possible
        raise Problem(404, "Not found", f"No vendor file {name!r}.")
    if not path.is_file():
        raise Problem(404, "Not found", "The chart library is not installed here (make install installs it).")
    headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
    body = path.read_bytes()
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        stat = path.stat()
        body = _gzipped(path, stat.st_mtime_ns, stat.st_size)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)
