"""The status page rendered by headless Chromium, checked against /v1/progress.

Runs Debian's chromium with --dump-dom after a virtual time budget long enough for the
page's first refresh from /status.json, with zero events and again with data, and saves
screenshots under test-artifacts/.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.api.ledger_state import Event, LedgerState
from tests.conftest import ARTIFACTS, ServiceRunner, free_port

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1100",
]
# Past the page's 5 s refresh, so the DOM shows figures fetched from /status.json.
BUDGET_MS = "8000"


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium (make install does)")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )


def dump_dom(url: str) -> str:
    result = chromium(f"--virtual-time-budget={BUDGET_MS}", "--dump-dom", url)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def screenshot(url: str, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.unlink(missing_ok=True)
    result = chromium(f"--virtual-time-budget={BUDGET_MS}", f"--screenshot={path}", url)
    assert result.returncode == 0, result.stderr[-2000:]
    assert path.stat().st_size > 10_000
    return path


@dataclass
class Card:
    code: str
    css_class: str
    values: dict[str, str]
    attrs: dict[str, dict[str, str]]


class StatusPageParser(HTMLParser):
    """Collects each target card's data-testid texts and attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: dict[str, Card] = {}
        self.ids: dict[str, str] = {}
        self._card: Card | None = None
        self._testid: str | None = None
        self._id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "section" and "data-code" in a:
            self._card = Card(a["data-code"], a.get("class", ""), {}, {})
            self.cards[a["data-code"]] = self._card
        if "data-testid" in a and self._card is not None:
            self._testid = a["data-testid"]
            self._card.attrs[self._testid] = a
            self._card.values.setdefault(self._testid, "")
        if "id" in a:
            self._id = a["id"]
            self.ids.setdefault(self._id, "")

    def handle_endtag(self, tag: str) -> None:
        self._testid = None
        self._id = None

    def handle_data(self, data: str) -> None:
        if self._card is not None and self._testid is not None:
            self._card.values[self._testid] += data
        if self._id is not None:
            self.ids[self._id] += data


def percent(ratio: str) -> str:
    return f"{Decimal(ratio) * 100:.2f}%"


def plan(figure: str) -> str:
    """A plan-unit figure as the page shows it: two decimals, half to even (format.js)."""
    return str(Decimal(figure).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def assert_page_matches(dom: str, progress: dict[str, object]) -> StatusPageParser:
    page = StatusPageParser()
    page.feed(dom)
    targets = progress["targets"]
    assert isinstance(targets, list)
    assert list(page.cards) == [t["code"] for t in targets]
    assert page.ids["as-of"] == progress["as_of"]
    assert page.ids["conn"] == "live", "the page did not refresh from /status.json"
    for t in targets:
        card = page.cards[t["code"]]
        assert card.values["settled"] == plan(t["settled_plan_unit"]), t["code"]
        assert card.attrs["settled"]["data-exact"] == t["settled_plan_unit"], t["code"]
        assert card.values["target"] == plan(t["target_amount_plan_unit"]), t["code"]
        assert card.values["progress"] == percent(t["progress_ratio"]), t["code"]
        assert card.values["expected"] == percent(t["expected_ratio"]), t["code"]
        assert card.attrs["status"]["data-status"] == t["status"], t["code"]
        assert f"status-{t['status']}" in card.css_class
        marker_left = Decimal(t["expected_ratio"]) * 100
        assert f"left: {marker_left.normalize():f}%" in card.attrs["marker"]["style"]
        if t["unconverted"]:
            assert "unconverted" in card.values
    return page


@dataclass(frozen=True, slots=True)
class Api:
    url: str
    operator: dict[str, str]

    def progress(self) -> dict[str, object]:
        """The figures the page must show: /v1/progress as an operator sees it."""
        response = httpx.get(self.url + "/v1/progress", headers=self.operator, timeout=10)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body


@pytest.fixture(scope="module")
def api(isolated_env: dict[str, str], services: ServiceRunner) -> Api:
    state = LedgerState(isolated_env)
    state.load_fx_seeds()
    operator = state.add_operator("ops")
    state.close()
    port = free_port()
    # The status page shows figures without a key in public mode only (PUBLIC_MODE=false:
    # tests/security/test_api_pages.py); the operator page needs its key either way.
    services.start(
        "api", "settlement_api", port, {"API_PORT": str(port), "FX_CACHE_SECONDS": "0", "PUBLIC_MODE": "true"}
    )
    return Api(f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {operator}"})


def test_page_uses_no_external_resources(api: Api) -> None:
    html = httpx.get(api.url + "/").text
    assert "https://" not in html
    assert 'src="/static/app.js"' in html
    assert "http://" not in httpx.get(api.url + "/static/app.js").text


def test_status_page_with_zero_events(api: Api) -> None:
    progress = api.progress()
    targets = progress["targets"]
    assert isinstance(targets, list)
    assert all(t["settled"] == "0.00" for t in targets)
    page = assert_page_matches(dump_dom(api.url + "/"), progress)
    assert page.cards["offshore"].values["settled"] == "0.00"
    screenshot(api.url + "/", "status-page-zero.png")


def test_status_page_with_data(api: Api, isolated_env: dict[str, str]) -> None:
    state = LedgerState(isolated_env)
    state.count(Event("bankA", "E1", "cross_border_rmb", Decimal("123456789012.34"), "CNY", date(2020, 5, 1)))
    state.count(Event("bankA", "E2", "offshore", Decimal("98765432.10"), "USD", date(2020, 6, 1)))
    state.count(Event("bankB", "E3", "cross_border_ecommerce", Decimal("30000000000.00"), "CNY", date(2020, 2, 1)))
    state.count(Event("bankB", "E4", "factor_market", Decimal("1000.00"), "CHF", date(2020, 2, 1)))
    state.close()
    progress = api.progress()
    page = assert_page_matches(dump_dom(api.url + "/"), progress)
    # 1234.5679 and 0.9877 亿 in the API: the page reads like the plan, two decimals.
    assert page.cards["cross_border_rmb"].values["settled"] == "1234.57"
    assert page.cards["offshore"].values["settled"] == "0.99"
    assert page.cards["cross_border_ecommerce"].attrs["status"]["data-status"] == "achieved"
    assert "CHF" in page.cards["factor_market"].values["unconverted"]
    shot = screenshot(api.url + "/", "status-page-data.png")
    assert shot.read_bytes()[:4] == b"\x89PNG"
