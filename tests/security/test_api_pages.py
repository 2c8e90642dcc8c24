"""M1: with PUBLIC_MODE=false the status page and its JSON served the figures that
/v1/progress refuses without a key.

Attack: anonymous GET /, /status.json and /status/series.json on the product-default API.
On the starting main all three answered 200 with every target's settled figures (the HTML
embedded them), so each test below fails there on its first status or content check.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import ServiceRunner
from tests.security.api_stack import Apis, get, start_apis

pytestmark = pytest.mark.integration

RMB_TOTAL = "10000000.00"  # the four banks' cross-border RMB: a publishable market figure


@pytest.fixture(scope="module")
def apis(isolated_env: dict[str, str], services: ServiceRunner) -> Apis:
    return start_apis(isolated_env, services)


def embedded(html: str, element: str) -> object:
    match = re.search(rf'<script id="{element}" type="application/json">(.*?)</script>', html, re.DOTALL)
    assert match, element
    return json.loads(match.group(1))


@pytest.mark.parametrize(
    "path", ["/status.json", "/status/series.json", "/v1/progress", "/v1/progress/offshore/series"]
)
def test_private_mode_json_needs_a_key(apis: Apis, path: str) -> None:
    refused = get(apis.private + path)
    assert refused.status_code == 401, refused.text[:300]
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert RMB_TOTAL not in refused.text
    assert get(apis.private + path, apis.banks["sec-b"]).status_code == 200


def test_private_mode_page_is_a_shell_without_figures(apis: Apis) -> None:
    page = get(apis.private + "/")
    assert page.status_code == 200
    assert embedded(page.text, "initial-progress") is None
    assert embedded(page.text, "initial-series") is None
    assert RMB_TOTAL not in page.text
    assert 'id="login"' in page.text  # it asks for a key, as the operator page does
    # With a key in the request the same page carries that reader's figures.
    keyed = get(apis.private + "/", apis.operator)
    progress = embedded(keyed.text, "initial-progress")
    assert isinstance(progress, dict)
    assert {t["code"]: t["settled"] for t in progress["targets"]}["cross_border_rmb"] == RMB_TOTAL


def test_public_mode_page_shows_market_figures(apis: Apis) -> None:
    progress = embedded(get(apis.public + "/").text, "initial-progress")
    assert isinstance(progress, dict)
    assert {t["code"]: t["settled"] for t in progress["targets"]}["cross_border_rmb"] == RMB_TOTAL
