"""M7: the HTML pages sent no security headers, and /docs loaded Swagger UI from a CDN on
the same origin as the operator page (which keeps the operator key in sessionStorage): a
compromised or hijacked CDN script would run with that origin's rights.

Attacks checked: framing the pages (clickjacking), injected inline script, MIME sniffing,
referrer leaks, and third-party script on /docs, for the API and for ingest. On the starting
main no response carried Content-Security-Policy or X-Content-Type-Options and /docs
referenced cdn.jsdelivr.net, so every test here fails on its first header or URL check.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

import httpx
import pytest

from tests.api.cdp import Browser
from tests.conftest import ServiceRunner
from tests.security.api_stack import Apis, get, start_apis
from tests.support.pipeline import bearer

pytestmark = pytest.mark.integration

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Services:
    apis: Apis
    ingest: str


@pytest.fixture(scope="module")
def services_up(isolated_env: dict[str, str], services: ServiceRunner) -> Services:
    apis = start_apis(isolated_env, services)
    return Services(apis, services.serve("ingest", "settlement_ingest").url)


def directives(csp: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def assert_html_hardened(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 200, response.text[:200]
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    csp = directives(response.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert not [s for s in csp["script-src"] if s.startswith(("http", "*"))]
    assert csp["object-src"] == ["'none'"]
    return csp


def inline_hashes(html: str) -> set[str]:
    bodies = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", html, re.DOTALL)
    return {"'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'" for b in bodies}


@pytest.mark.parametrize("path", ["/", "/operator", "/docs", "/redoc"])
def test_api_pages_send_security_headers(services_up: Services, path: str) -> None:
    for base in (services_up.apis.private, services_up.apis.public):
        response = get(base + path)
        csp = assert_html_hardened(response)
        # Inline scripts run only when their hash is listed: Swagger UI's start-up script is.
        assert inline_hashes(response.text) <= set(csp["script-src"])


@pytest.mark.parametrize("path", ["/v1/progress", "/status.json", "/metrics", "/openapi.json", "/v1/nothing"])
def test_every_response_is_nosniff(services_up: Services, path: str) -> None:
    response = get(services_up.apis.public + path, services_up.apis.operator)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert directives(response.headers["content-security-policy"])["default-src"] == ["'none'"]


@pytest.mark.parametrize("service", ["api", "ingest"])
def test_docs_assets_are_served_locally(services_up: Services, service: str) -> None:
    base = services_up.apis.public if service == "api" else services_up.ingest
    for page in ("/docs", "/redoc"):
        response = get(base + page)
        assert_html_hardened(response)
        assert not EXTERNAL.findall(response.text), EXTERNAL.findall(response.text)
        assert "cdn." not in response.text
        assert "fonts.googleapis" not in response.text
        for asset in re.findall(r"""(?:src|href)=["'](/[^"']+)["']""", response.text):
            fetched = get(base + asset)
            assert fetched.status_code == 200, asset
            assert fetched.headers["x-content-type-options"] == "nosniff"
            assert len(fetched.content) > 1000, asset


def test_swagger_ui_runs_under_the_policy_and_loads_nothing_external(services_up: Services) -> None:
    """In Chromium: Swagger UI renders the API's document (so the hashed inline start-up
    script ran under the CSP) and every request stays on the service's own origin."""
    base = services_up.apis.public
    with Browser(1280, 900) as browser:
        browser.goto(base + "/docs")
        title = browser.wait_for("document.querySelector('.swagger-ui .info .title')?.textContent")
        assert "Settlement volume tracker API" in title
        urls = browser.request_urls()
        assert urls
        assert all(u.startswith(base) or u.startswith(("data:", "blob:")) for u in urls), urls


def test_the_status_page_asks_for_a_key_and_renders_under_the_policy(services_up: Services) -> None:
    """Private mode in Chromium: the shell shows the key form, and after a bank key is typed
    the figures render (the page's scripts and fetches work under the CSP)."""
    apis = services_up.apis
    key = apis.banks["sec-a"]["Authorization"].removeprefix("Bearer ")
    with Browser(1280, 900) as browser:
        browser.goto(apis.private + "/")
        assert browser.evaluate("document.getElementById('login').hidden") is False
        assert browser.evaluate("document.querySelectorAll('#targets section').length") == 0
        browser.type_text("#key", key)
        browser.evaluate("document.querySelector('#login button[type=submit]').click()")
        browser.wait_for("document.body.dataset.rendered === '6'")
        settled = browser.evaluate(
            "Object.fromEntries([...document.querySelectorAll('#targets section')].map("
            "s => [s.dataset.code, s.querySelector('[data-testid=settled]').textContent]))"
        )
        assert settled["cross_border_rmb"] == "0.10"  # 0.1000 亿 in the API: two decimals on the page
        assert "suppressed" in settled["mnc_headquarters"]
        assert browser.evaluate("sessionStorage.getItem('settlement.statusKey')") == key
        assert get(apis.private + "/status.json", bearer(key)).status_code == 200
