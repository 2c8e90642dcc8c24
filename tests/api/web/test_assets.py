"""The status page's files over HTTP from the real API process: content types, caching, the
chart library served by the API itself (never a CDN), and a Content-Security-Policy that
allows what ECharts needs and nothing more. The route-level fallback when the library is not
installed is tested without a server (test_routes.py); in a browser in test_charts_browser.py."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from settlement_api.web.routes import ECHARTS_DIST, VENDOR, echarts_url
from tests.conftest import ServiceRunner, free_port

pytestmark = pytest.mark.integration

# The status page's policy, exactly: scripts, styles, fetches, fonts only from the API's own
# origin, images also as data: (a chart saved as an image is a data: URL); no inline script or
# style, no eval, no blob: workers, no plugins, no framing. ECharts draws on a canvas and
# styles its tooltip through the CSSOM, which none of these blocks (test_charts_browser.py
# records zero violations while it renders, hovers and saves).
EXPECTED_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def directives(csp: str) -> dict[str, list[str]]:
    return {words[0]: words[1:] for words in (part.split() for part in csp.split(";")) if words}


@pytest.fixture(scope="module")
def api_url(isolated_env: dict[str, str], services: ServiceRunner) -> str:
    port = free_port()
    services.start("api", "settlement_api", port, {"API_PORT": str(port), "PUBLIC_MODE": "true"})
    return f"http://127.0.0.1:{port}"


def test_the_page_loads_the_pinned_chart_library_from_the_api(api_url: str) -> None:
    assert (VENDOR / ECHARTS_DIST).is_file(), "make install (deploy/local/web_vendor.sh) copies it here"
    html = httpx.get(api_url + "/", timeout=30).text
    lock = json.loads((VENDOR / "package-lock.json").read_text(encoding="utf-8"))
    version = lock["packages"]["node_modules/echarts"]["version"]
    assert lock["packages"]["node_modules/echarts"]["integrity"].startswith("sha512-")
    assert f'<script src="/static/vendor/echarts-{version}.common.min.js"></script>' in html
    scripts = re.findall(r'<script src="([^"]+)"', html)
    # format.js before charts.js and app.js, which use it; echarts before charts.js.
    assert scripts == ["/static/format.js", echarts_url(), "/static/charts.js", "/static/app.js"]
    assert "<!--__ECHARTS__-->" not in html
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)


def test_the_chart_library_is_served_versioned_immutable_and_compressed(api_url: str) -> None:
    plain = httpx.get(api_url + echarts_url(), headers={"Accept-Encoding": "identity"}, timeout=30)
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "text/javascript; charset=utf-8"
    assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plain.headers["x-content-type-options"] == "nosniff"
    assert "content-encoding" not in plain.headers
    assert plain.content == (VENDOR / ECHARTS_DIST).read_bytes()
    packed = httpx.get(api_url + echarts_url(), headers={"Accept-Encoding": "gzip"}, timeout=30)
    assert packed.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["vary"]
    assert packed.content == plain.content  # httpx decoded it
    raw_size = int(packed.headers["content-length"])
    assert raw_size < len(plain.content) / 2, raw_size  # 240 KB of 715 KB measured


@pytest.mark.parametrize("name", ["app.js", "charts.js", "format.js", "operator.js", "style.css"])
def test_the_page_files_have_their_type_and_a_short_cache(api_url: str, name: str) -> None:
    response = httpx.get(f"{api_url}/static/{name}", timeout=30)
    assert response.status_code == 200
    media = "text/css" if name.endswith(".css") else "text/javascript"
    assert response.headers["content-type"] == f"{media}; charset=utf-8"
    # Unversioned URLs: a deploy must reach browsers within a minute.
    assert response.headers["cache-control"] == "max-age=60"


@pytest.mark.parametrize(
    "path",
    [
        "/static/vendor/echarts-0.0.1.common.min.js",
        "/static/vendor/package-lock.json",
        "/static/vendor/package.json",
        "/static/vendor/..%2Froutes.py",
        "/static/vendor/.gitignore",
    ],
)
def test_only_the_pinned_library_is_served_from_vendor(api_url: str, path: str) -> None:
    response = httpx.get(api_url + path, timeout=30)
    assert response.status_code == 404, response.text[:200]
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("path", ["/", "/operator"])
def test_the_pages_policy_is_exactly_what_the_charts_need(api_url: str, path: str) -> None:
    response = httpx.get(api_url + path, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert directives(response.headers["content-security-policy"]) == EXPECTED_CSP
