"""The status page's ECharts charts in real headless Chromium against the real API process:
values on hover equal the API's figures (as the plan writes them), a chart saves as a PNG
file, nothing breaks the Content-Security-Policy while doing so, the page still shows its
figures when the chart library cannot load, and the release state and known_at control
render from the fields the page reads (app.js releaseState).

Screenshots (hover at 1366x768 and at 360 px) go to test-artifacts/.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.cdp import Browser
from tests.api.ledger_state import Event, LedgerState
from tests.conftest import ARTIFACTS, ServiceRunner, free_port
from tests.support.ctl import settlementctl_ok

pytestmark = [pytest.mark.integration, pytest.mark.browser]

LAPTOP = (1366, 768)
PHONE = (360, 740)
AS_OF = "2020-06-30"
# Before any page script runs: every CSP violation and uncaught error is recorded.
RECORDER = """
window.__violations = [];
window.__errors = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
"""


def plan(figure: str | Decimal) -> str:
    return str(Decimal(figure).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True, slots=True)
class Api:
    url: str

    def get(self, path: str, **params: str) -> Any:
        response = httpx.get(self.url + path, params=params, timeout=30)
        assert response.status_code == 200, response.text[:500]
        return response.json()


@pytest.fixture(scope="module")
def api(isolated_env: dict[str, str], services: ServiceRunner) -> Api:
    state = LedgerState(isolated_env)
    for bank in ("web0", "web1", "web2"):
        state.add_bank(bank)
    # Three banks every month, so public figures are not suppressed (MIN_CONTRIBUTORS 3).
    for month in range(1, 13):
        for index, bank in enumerate(("web0", "web1", "web2")):
            amount = Decimal("1234567890.12") * (month + index) + Decimal(month)
            day = date(2020, month, 5 + index)
            state.count(Event(bank, f"rmb-{month}-{bank}", "cross_border_rmb", amount, "CNY", day))
            previous = (amount / 3).quantize(Decimal("0.01"))
            state.count(
                Event(bank, f"rmb-2019-{month}-{bank}", "cross_border_rmb", previous, "CNY", day.replace(year=2019))
            )
    state.close()
    port = free_port()
    services.start(
        "api", "settlement_api", port, {"API_PORT": str(port), "FX_CACHE_SECONDS": "0", "PUBLIC_MODE": "true"}
    )
    return Api(f"http://127.0.0.1:{port}")


@pytest.fixture
def browser() -> Iterator[Browser]:
    with Browser(*LAPTOP) as b:
        b.send("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
        yield b


def open_page(browser: Browser, url: str) -> None:
    browser.goto(url)
    browser.wait_for("document.body.dataset.rendered === '6'")
    # The page's first read (releases, then the figures) re-renders the cards: wait for it,
    # so a click or hover does not land while the charts move to their new cards.
    browser.wait_for("document.getElementById('conn').textContent === 'live'", timeout=20)


def hover(browser: Browser, code: str, testid: str, category: str) -> str:
    """Moves the mouse onto one category of a chart; returns the visible tooltip's text."""
    selector = f"section[data-code={code}] [data-testid={testid}]"
    x, y = browser.evaluate(
        f"""(() => {{
          const node = document.querySelector('{selector}');
          node.scrollIntoView({{ block: 'center' }});
          const box = node.getBoundingClientRect();
          const chart = echarts.getInstanceByDom(node);
          const [px, py] = chart.convertToPixel({{ xAxisIndex: 0, yAxisIndex: 0 }}, ['{category}', 0]);
          return [box.left + px, box.top + py - 30];
        }})()"""
    )
    browser.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
    text: str = browser.wait_for(
        f"[...document.querySelector('{selector}').querySelectorAll('.chart-tip')]"
        ".filter((t) => t.style.display !== 'none' && t.textContent).map((t) => t.textContent).join('')"
    )
    return text


def test_hover_shows_the_apis_figures_as_the_plan_writes_them(api: Api, browser: Browser) -> None:
    open_page(browser, f"{api.url}/?as_of={AS_OF}")
    assert browser.evaluate("document.body.dataset.charts") == "drawn"
    day = api.get("/v1/progress/cross_border_rmb/series", period="2020", granularity="day", as_of=AS_OF)
    point = next(p for p in day["points"] if p["start"] == "2020-04-15")
    text = hover(browser, "cross_border_rmb", "curve", "2020-04-15")
    assert "2020-04-15" in text
    assert f"累计 settled{plan(point['cumulative_plan_unit'])} 亿元" in text
    assert f"时间进度 pace{plan(point['expected_plan_unit'])} 亿元" in text
    assert f"目标 target{plan(day['target_amount_plan_unit'])} 亿元" in text
    browser.screenshot(ARTIFACTS / "status-hover-1366x768.png", full_page=False)

    month = api.get("/v1/progress/cross_border_rmb/series", period="2020", granularity="month", as_of=AS_OF)
    march = month["points"][2]
    assert Decimal(march["settled"]) > 0
    assert march["previous"] is not None
    text = hover(browser, "cross_border_rmb", "bars", "3月")
    settled, previous = Decimal(march["settled"]) / 10**8, Decimal(march["previous"]) / 10**8
    assert f"2020-03{plan(settled)} 亿元" in text
    assert f"上年 previous year{plan(previous)} 亿元" in text
    change = plan(settled - previous)
    assert f"同比 change{'' if change.startswith('-') else '+'}{change} 亿元" in text
    assert browser.evaluate("window.__violations") == []
    assert browser.evaluate("window.__errors") == []


def test_a_chart_saves_as_a_png_under_the_policy(api: Api, browser: Browser) -> None:
    with tempfile.TemporaryDirectory() as downloads:
        browser.send("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads}, browser=True)
        open_page(browser, f"{api.url}/?as_of={AS_OF}")
        # The toolbox's save icon, where ECharts drew it (its own display list).
        x, y = browser.evaluate(
            """(() => {
              const node = document.querySelector('section[data-code=cross_border_rmb] [data-testid=curve]');
              const box = node.getBoundingClientRect();
              const icon = echarts.getInstanceByDom(node).getZr().storage.getDisplayList().find((e) => e.__title);
              const r = icon.getBoundingRect();
              const m = icon.getComputedTransform();
              return [box.left + m[4] + r.x + r.width / 2, box.top + m[5] + r.y + r.height / 2];
            })()"""
        )
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            browser.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})
        saved = Path(downloads) / f"cross_border_rmb-cumulative-{AS_OF}.png"
        deadline = time.monotonic() + 20
        while not (saved.exists() and saved.stat().st_size > 0) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert saved.exists(), list(Path(downloads).iterdir())
        body = saved.read_bytes()
        assert body[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(body) > 10_000  # a drawn chart at pixelRatio 2, not an empty canvas
    assert browser.evaluate("window.__violations") == []
    assert browser.evaluate("window.__errors") == []


def test_the_page_keeps_its_figures_when_the_chart_library_cannot_load(api: Api, browser: Browser) -> None:
    """As if `make install` had not run: the script never arrives (the route then also leaves
    its tag out: test_routes.py)."""
    browser.send("Network.setBlockedURLs", {"urls": ["*/static/vendor/*"]})
    open_page(browser, f"{api.url}/?as_of={AS_OF}")
    assert browser.evaluate("typeof echarts") == "undefined"
    assert browser.evaluate("document.body.dataset.charts") == "unavailable"
    assert browser.evaluate("document.querySelectorAll('.charts-unavailable').length") == 12
    day = api.get("/v1/progress/cross_border_rmb/series", period="2020", granularity="day", as_of=AS_OF)
    settled = browser.evaluate(
        "document.querySelector('section[data-code=cross_border_rmb] [data-testid=settled]').textContent"
    )
    assert settled == plan(day["settled_plan_unit"])
    assert browser.evaluate("window.__errors") == []
    browser.screenshot(ARTIFACTS / "status-no-charts-1366x768.png", full_page=False)


# The releases API of issue 24 (releases slice: ReleasesOut, RevisionsOut) and
# ProgressOut.known_at, answered in the page's own fetch with states the real API reaches only
# after long histories (a preliminary then a final release, a suppressed revision): the page
# must render them exactly as the API documents them.
RELEASES_API = """
const realFetch = window.fetch.bind(window);
window.__requests = [];
const answer = (body) => new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/json' } });
const summary = (id, kind, at) => ({ id, period: '2020', kind, note: kind, known_at: at });
const revision = (target, difference, status, suppressed) => ({
  target, currency: 'CNY', window_start: '2020-01-01', as_of: '2020-12-31', published: null, published_events: null,
  today: null, today_events: null, difference, observation_status: status, suppressed,
  explained: { counted: { events: 0, amount: '0.00' }, reversed: { events: 0, amount: '0.00' },
               re_derived: '0.00', rounding: '0.00', by_bank: null } });
window.fetch = async (input, init) => {
  const url = new URL(String(input), location.href);
  window.__requests.push(url.pathname + url.search);
  if (url.pathname === '/v1/releases') {
    return answer({ releases: [summary(7, 'preliminary', '2021-01-05T02:00:00Z'),
                               summary(9, 'final', '2021-01-15T02:00:00Z')] });
  }
  if (url.pathname === '/v1/releases/9/revisions') {
    return answer({ release: summary(9, 'final', '2021-01-15T02:00:00Z'), known_at: '2026-01-01T00:00:00Z',
                    revisions: [revision('cross_border_rmb', '__DIFFERENCE__', 'revised', false),
                                revision('offshore', '0.00', 'final', false),
                                revision('mnc_headquarters', null, null, true)] });
  }
  const response = await realFetch(input, init);
  if (url.pathname === '/status.json' || url.pathname === '/v1/progress') {
    const body = await response.json();
    body.known_at = url.searchParams.get('known_at'); // ProgressOut.known_at: null = now
    return answer(body);
  }
  return response;
};
"""


def release_box(browser: Browser, code: str) -> dict[str, Any]:
    box: dict[str, Any] = browser.evaluate(
        f"""(() => {{
          const box = document.querySelector('section[data-code={code}] [data-testid=release]');
          const revision = box.querySelector('[data-testid=revision]');
          return {{ status: box.dataset.observationStatus, kind: box.dataset.releaseKind, text: box.textContent,
                    revision: revision ? (revision.dataset.exact || '') : null }};
        }})()"""
    )
    return box


def test_before_any_release_every_target_is_provisional_and_not_yet_released(api: Api, browser: Browser) -> None:
    """The real API before `settlementctl release create`: /v1/releases is empty, /v1/progress
    says provisional for every target, and /status.json has known_at (null: now)."""
    assert api.get("/v1/releases")["releases"] == []
    open_page(browser, f"{api.url}/?as_of={AS_OF}")
    browser.wait_for("document.querySelectorAll('[data-testid=release]').length === 6")
    for code in ("cross_border_rmb", "offshore"):
        box = release_box(browser, code)
        assert box["status"] == "provisional"
        assert box["kind"] == ""
        assert "not yet released" in box["text"]
    assert browser.evaluate("document.getElementById('known-at-form').hidden") is False
    assert browser.evaluate("window.__errors") == []


def test_a_real_final_release_and_a_late_event_show_as_revised(
    api: Api, browser: Browser, isolated_env: dict[str, str]
) -> None:
    """The real releases API: a final release of 2020 made by settlementctl, then a late event
    for cross-border RMB; the page shows final / revised with the revision the API states,
    values on hover, at 1366x768 and at phone width (screenshots in test-artifacts/)."""
    settlementctl_ok(isolated_env, "release", "create", "--period", "2020", "--kind", "final", "--note", "web test")
    state = LedgerState(isolated_env)
    late = Decimal("98765432.10")
    state.count(Event("web1", "rmb-late", "cross_border_rmb", late, "CNY", date(2020, 6, 20)))
    state.close()
    (release,) = api.get("/v1/releases")["releases"]
    revisions = {r["target"]: r for r in api.get(f"/v1/releases/{release['id']}/revisions")["revisions"]}
    assert Decimal(revisions["cross_border_rmb"]["difference"]) == late
    open_page(browser, f"{api.url}/?as_of={AS_OF}")
    browser.wait_for("document.querySelector('section[data-code=cross_border_rmb] [data-testid=revision]') !== null")
    rmb = release_box(browser, "cross_border_rmb")
    assert (rmb["status"], rmb["kind"]) == ("revised", "final")
    assert rmb["revision"] == revisions["cross_border_rmb"]["difference"]
    assert f"revised since: +{plan(late / 10**8)} 亿元" in rmb["text"]
    offshore = release_box(browser, "offshore")
    assert (offshore["status"], offshore["kind"]) == ("final", "final")
    assert "unrevised since" in offshore["text"]
    text = hover(browser, "cross_border_rmb", "curve", "2020-04-15")
    assert "2020-04-15" in text
    browser.screenshot(ARTIFACTS / "status-real-release-hover-1366x768.png", full_page=False)
    browser.viewport(*PHONE)
    open_page(browser, f"{api.url}/?as_of={AS_OF}")
    browser.wait_for("document.querySelector('section[data-code=cross_border_rmb] [data-testid=revision]') !== null")
    assert "2020-04-15" in hover(browser, "cross_border_rmb", "curve", "2020-04-15")
    browser.screenshot(ARTIFACTS / "status-real-release-hover-360.png", full_page=False)
    assert browser.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    assert browser.evaluate("window.__violations") == []
    assert browser.evaluate("window.__errors") == []


def test_release_state_and_known_at_from_the_releases_api(api: Api, browser: Browser) -> None:
    difference = "1234567.89"  # 0.0123 亿: +0.01 亿元 on the page
    browser.send(
        "Page.addScriptToEvaluateOnNewDocument", {"source": RELEASES_API.replace("__DIFFERENCE__", difference)}
    )
    open_page(browser, f"{api.url}/?as_of={AS_OF}")
    browser.wait_for("document.querySelectorAll('[data-testid=release]').length === 6")
    rmb = release_box(browser, "cross_border_rmb")
    assert rmb["status"] == "revised"
    assert rmb["kind"] == "final"  # the latest release of 2020, not the preliminary one
    assert "published 2021-01-15 02:00 UTC" in rmb["text"]
    assert rmb["revision"] == difference
    assert "revised since: +0.01 亿元" in rmb["text"]
    offshore = release_box(browser, "offshore")
    assert offshore["status"] == "final"
    assert "unrevised since" in offshore["text"]
    mnc = release_box(browser, "mnc_headquarters")
    assert "revision suppressed" in mnc["text"]
    assert browser.evaluate("window.__requests.filter((u) => u.startsWith('/v1/releases/')).length") == 1
    assert browser.evaluate("document.getElementById('known-at-form').hidden") is False
    browser.screenshot(ARTIFACTS / "status-release-1366x768.png", full_page=False)

    # The control reads the figures known then from /v1/progress and each target's series.
    browser.evaluate("document.getElementById('known-at-input').value = '2021-01-20T10:30'")
    browser.evaluate("document.getElementById('known-at-form').requestSubmit()")
    browser.wait_for("document.getElementById('conn').textContent.startsWith('as known at')")
    stamp = browser.evaluate("new Date('2021-01-20T10:30').toISOString()").replace(":", "%3A")
    assert browser.evaluate("location.search") == f"?as_of={AS_OF}&known_at={stamp}"
    requests = browser.evaluate("window.__requests")
    assert f"/v1/progress?as_of={AS_OF}&known_at={stamp}" in requests
    for code in ("cross_border_rmb", "offshore", "factor_market"):
        for grain in ("day", "month"):
            assert (
                f"/v1/progress/{code}/series?period=2020&granularity={grain}&as_of={AS_OF}&known_at={stamp}" in requests
            )
    assert "figures as known at 2021-01-20" in browser.evaluate("document.getElementById('known-at-note').textContent")
    assert browser.evaluate("document.body.dataset.rendered") == "6"
    # What was known at a past time does not change: no polling while it is shown.
    count = len(requests)
    time.sleep(6)
    assert len(browser.evaluate("window.__requests")) == count
    browser.evaluate("document.getElementById('known-at-now').click()")
    browser.wait_for("document.getElementById('conn').textContent === 'live'")
    assert browser.evaluate("location.search") == f"?as_of={AS_OF}"
    assert browser.evaluate("window.__violations") == []
    assert browser.evaluate("window.__errors") == []


def test_phone_width_has_no_sideways_scroll_even_with_a_tooltip(api: Api, browser: Browser) -> None:
    browser.viewport(*PHONE)
    open_page(browser, f"{api.url}/?as_of={AS_OF}")
    assert browser.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    assert "2020-04-15" in hover(browser, "cross_border_rmb", "curve", "2020-04-15")
    # A tooltip placed before ECharts confined it once widened the layout viewport to 463 px.
    assert browser.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    browser.screenshot(ARTIFACTS / "status-hover-360.png", full_page=False)
