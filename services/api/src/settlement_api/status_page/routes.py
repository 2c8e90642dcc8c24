"""The status page: GET / (HTML with the progress embedded) and GET /status.json.

Decision (docs/api.md): the page needs figures without a key, so /status.json serves exactly
the body of /v1/progress for today — the market-wide figures public mode would show — and
nothing per bank. The HTML embeds the same JSON so the page renders on first paint, then
refreshes from /status.json every few seconds. Everything is served locally (no CDN).
STATUS_PAGE_ENABLED=false removes both routes' content (404).
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from settlement_api.deps import RuntimeDep
from settlement_api.progress.schemas import ProgressOut
from settlement_api.progress.service import progress_report
from settlement_core.problems import Problem

STATIC = Path(__file__).with_name("static")
router = APIRouter(include_in_schema=False)


def _enabled(runtime: RuntimeDep) -> None:
    if not runtime.settings.status_page_enabled:
        raise Problem(404, "Not found", "The status page is disabled.")


def embed(template: str, progress: ProgressOut) -> str:
    # "</" would end the <script> element early; JSON allows the escaped form.
    data = json.dumps(progress.model_dump(mode="json"), ensure_ascii=False).replace("</", "<\\/")
    return template.replace("__INITIAL_PROGRESS__", data)


@router.get("/", response_class=HTMLResponse)
async def status_page(runtime: RuntimeDep) -> HTMLResponse:
    _enabled(runtime)
    template = (STATIC / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(embed(template, await progress_report(runtime, None)), headers={"Cache-Control": "no-store"})


@router.get("/status.json", response_model=ProgressOut)
async def status_json(runtime: RuntimeDep) -> ProgressOut:
    _enabled(runtime)
    return await progress_report(runtime, None)


@router.get("/static/{name}")
async def static_file(name: str, runtime: RuntimeDep) -> Response:
    _enabled(runtime)
    media = {"app.js": "text/javascript", "style.css": "text/css"}
    if name not in media:  # a fixed list: no path traversal possible
        raise Problem(404, "Not found", f"No static file {name!r}.")
    return Response(
        (STATIC / name).read_bytes(),
        media_type=f"{media[name]}; charset=utf-8",
        headers={"Cache-Control": "max-age=60"},
    )
