"""The status page's embedded JSON and its chart-library fallback (web/routes.py), without a
server."""

from __future__ import annotations

import asyncio
import shutil
from datetime import date
from pathlib import Path

import pytest
from starlette.requests import Request

from settlement_api.progress.schemas import DistinctVolumeOut, ProgressOut
from settlement_api.settings import ApiSettings
from settlement_api.web import routes
from settlement_api.web.routes import embed
from settlement_core.problems import Problem


def test_embedded_json_cannot_close_the_script() -> None:
    progress = ProgressOut(
        as_of=date(2020, 1, 1),
        period="2020",
        periods=["2020"],
        timezone="</script><b>",
        on_track_pace="0.9",
        targets=[],
        distinct_volume=DistinctVolumeOut(
            currency="CNY",
            window_start=date(2020, 1, 1),
            as_of=date(2020, 1, 1),
            amount="0.00",
            amount_plan_unit="0.0000",
            by_currency={},
            unconverted={},
            events_counted=0,
        ),
    )
    html = embed("<script>__INITIAL_PROGRESS__</script>", progress)
    assert html.count("</script>") == 1


def without_the_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A vendor folder as a clone has it before `make install`: the lock, not the file."""
    shutil.copy(routes.VENDOR / "package-lock.json", tmp_path / "package-lock.json")
    monkeypatch.setattr(routes, "VENDOR", tmp_path)


def test_the_page_has_no_chart_script_when_the_library_is_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = (routes.STATIC / "index.html").read_text(encoding="utf-8")
    assert routes.ECHARTS_PLACEHOLDER in template
    installed = routes.with_echarts(template)
    assert f'<script src="{routes.echarts_url()}"></script>' in installed
    without_the_library(tmp_path, monkeypatch)
    html = routes.with_echarts(template)
    assert "/static/vendor/" not in html
    assert routes.ECHARTS_PLACEHOLDER not in html
    # The page's own scripts stay: they show the figures and say the charts are unavailable.
    for script in ("/static/format.js", "/static/charts.js", "/static/app.js"):
        assert f'<script src="{script}"></script>' in html


def test_the_library_url_is_a_404_problem_not_a_500_when_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_the_library(tmp_path, monkeypatch)
    name = routes.echarts_url().rsplit("/", 1)[1]
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""})
    with pytest.raises(Problem) as raised:
        asyncio.run(routes.vendor_file(name, request, ApiSettings.model_construct(status_page_enabled=True)))
    assert raised.value.status == 404
    assert "make install" in str(raised.value.detail)
