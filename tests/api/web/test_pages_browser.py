"""The status page's charts and the operator page in real headless Chromium (Debian's),
driven over the DevTools protocol (tests/api/cdp.py), against the real API process.

The rendered numbers (plan-unit figures to two decimals, the exact ones in data-exact) and the
data the ECharts charts plot equal /v1/progress/{code}/series at three as_of dates;
the operator's key never reaches a URL or localStorage. Screenshots at 1366x768 and at a
phone width are written to test-artifacts/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.api.cdp import Browser
from tests.api.ledger_state import Event, LedgerState
from tests.conftest import ARTIFACTS, ServiceRunner, free_port

pytestmark = [pytest.mark.integration, pytest.mark.browser]

LAPTOP = (1366, 768)
PHONE = (390, 844)
AS_OF_DATES = ("2020-02-29", "2020-06-30", "2020-11-15")
# What each card shows, and what its ECharts charts plot (the instances' own series data).
CARD_VALUES = """
[...document.querySelectorAll('section.target')].map((card) => {
  const text = (id) => card.querySelector(`[data-testid="${id}"]`).textContent;
  const attr = (id, name) => card.querySelector(`[data-testid="${id}"]`).getAttribute(name);
  const plotted = (id) => echarts.getInstanceByDom(card.querySelector(`[data-testid="${id}"]`)).getOption().series;
  const [curve, pace] = plotted('curve');
  const [previous, current] = plotted('bars');
  return {
    code: card.dataset.code,
    settled: text('settled'), settled_exact: attr('settled', 'data-exact'), target: text('target'),
    progress: text('progress'), expected: text('expected'), projected: text('projected'),
    status: attr('status', 'data-status'),
    curve: attr('curve', 'data-values'), curve_points: curve.data.filter((v) => v !== null).length,
    curve_plotted: curve.data.filter((v) => v !== null).map(String),
    pace: attr('curve', 'data-pace'), pace_points: pace.data.length,
    bars: attr('bars', 'data-values'), previous: attr('bars', 'data-previous'),
    bars_points: current.data.length, previous_points: previous.data.length,
  };
})
"""


def scenario() -> list[Event]:
    """A year of events for every target (and some 2019 history), varied per target."""
    events: list[Event] = []
    codes = {
        "cross_border_rmb": ("CNY", Decimal("1500000000.00")),
        "cross_border_ecommerce": ("USD", Decimal("40000000.00")),
        "mnc_headquarters": ("CNY", Decimal("4000000000.00")),
        "offshore": ("USD", Decimal("250000000.00")),
        "factor_market": ("CNY", Decimal("30000000000.00")),
        "corporate_account": ("CNY", Decimal("9000000000.00")),
    }
    for index, (code, (currency, size)) in enumerate(codes.items()):
        for month in range(1, 13):
            for day in (3, 17):
                amount = (size * (month + index) / 7).quantize(Decimal("0.01")) + Decimal(day) / 100
                events.append(
                    Event(
                        f"bank{(month + day) % 3}",
                        f"{code}-{month}-{day}",
                        code,
                        amount,
                        currency,
                        date(2020, month, day),
                    )
                )
            events.append(Event("bank1", f"{code}-2019-{month}", code, size * 2, currency, date(2019, month, 9)))
    return events


@dataclass(frozen=True, slots=True)
class Api:
    url: str
    operator_key: str

    def get(self, path: str, **params: str) -> Any:
        response = httpx.get(
            self.url + path, params=params, headers={"Authorization": f"Bearer {self.operator_key}"}, timeout=30
        )
        assert response.status_code == 200, response.text[:500]
        return response.json()


@pytest.fixture(scope="module")
def api(isolated_env: dict[str, str], services: ServiceRunner) -> Api:
    state = LedgerState(isolated_env)
    operator = state.add_operator("ops")
    for bank in ("bank0", "bank1", "bank2", "bank-late", "bank-quiet"):
        state.add_bank(bank)
    for event in scenario():
        state.count(event)
    # bank-late's only receipt is long ago: the completeness list must show it (with bank-quiet).
    old = datetime.now(UTC) - timedelta(days=20)
    state.count(Event("bank-late", "late", "offshore", Decimal("1.00"), "USD", date(2020, 12, 30), processed_at=old))
    state.close()
    # bank-quiet registered 100 days ago: it owes the control totals of the months since.
    engine = create_engine(isolated_env["DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(text("UPDATE banks SET created_at = now() - interval '100 days' WHERE bank_id = 'bank-quiet'"))
    engine.dispose()
    port = free_port()
    # The status page shows figures without a key in public mode only (PUBLIC_MODE=false:
    # tests/security/test_api_pages.py); the operator page needs its key either way.
    services.start(
        "api", "settlement_api", port, {"API_PORT": str(port), "FX_CACHE_SECONDS": "0", "PUBLIC_MODE": "true"}
    )
    return Api(f"http://127.0.0.1:{port}", operator)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser(*LAPTOP) as b:
        yield b


def percent(ratio: str) -> str:
    return f"{Decimal(ratio) * 100:.2f}%"


def plan(figure: str) -> str:
    """A plan-unit figure as the page shows it: two decimals, half to even (format.js)."""
    return str(Decimal(figure).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def assert_cards_match(cards: list[dict[str, Any]], api: Api, as_of: str) -> None:
    targets = api.get("/v1/targets")["targets"]
    assert [c["code"] for c in cards] == [t["code"] for t in targets]
    for card in cards:
        code = card["code"]
        day = api.get(f"/v1/progress/{code}/series", period="2020", granularity="day", as_of=as_of)
        month = api.get(f"/v1/progress/{code}/series", period="2020", granularity="month", as_of=as_of)
        assert day["as_of"] == as_of
        assert card["settled"] == plan(day["settled_plan_unit"]), code
        assert card["settled_exact"] == day["settled_plan_unit"], code
        assert card["target"] == plan(day["target_amount_plan_unit"]), code
        assert card["progress"] == percent(day["progress_ratio"]), code
        assert card["expected"] == percent(day["expected_ratio"]), code
        assert card["projected"] == plan(day["projected_total_plan_unit"]), code
        assert card["status"] == day["status"], code
        curve = [p["cumulative_plan_unit"] for p in day["points"] if p["cumulative_plan_unit"] is not None]
        assert card["curve"].split(" ") == curve, code
        assert [Decimal(v) for v in card["curve_plotted"]] == [Decimal(v) for v in curve], code
        assert card["curve_points"] == len(curve) == (date.fromisoformat(as_of) - date(2020, 1, 1)).days + 1
        assert card["pace"].split(" ") == [p["expected_plan_unit"] for p in day["points"]], code
        assert card["pace_points"] == 366
        assert card["bars"].split(" ") == [p["settled"] or "-" for p in month["points"]], code
        assert card["previous"].split(" ") == [p["previous"] or "-" for p in month["points"]], code
        assert card["bars_points"] == card["previous_points"] == 12, code
    # The scenario has volume everywhere: the comparison above is not one of empty charts.
    assert all(Decimal(c["settled_exact"]) > 0 for c in cards)


@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_status_page_charts_equal_the_series_api(api: Api, browser: Browser, as_of: str) -> None:
    browser.viewport(*LAPTOP)
    browser.goto(f"{api.url}/?as_of={as_of}")
    browser.wait_for("document.body.dataset.rendered === '6'")
    assert_cards_match(browser.evaluate(CARD_VALUES), api, as_of)
    # After the page's own refresh from /status/series.json the figures are still these.
    browser.wait_for("document.getElementById('conn').textContent === 'live'", timeout=20)
    assert_cards_match(browser.evaluate(CARD_VALUES), api, as_of)
    shot = browser.screenshot(ARTIFACTS / f"status-charts-{as_of}-1366x768.png", full_page=False)
    assert shot.stat().st_size > 20_000
    browser.viewport(*PHONE)
    browser.goto(f"{api.url}/?as_of={as_of}")
    browser.wait_for("document.body.dataset.rendered === '6'")
    # Legible on a phone: nothing wider than the screen, so no sideways scrolling.
    assert browser.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    browser.screenshot(ARTIFACTS / f"status-charts-{as_of}-390.png")


def test_the_date_control_changes_the_view(api: Api, browser: Browser) -> None:
    browser.viewport(*LAPTOP)
    browser.goto(api.url + "/")
    browser.wait_for("document.body.dataset.rendered === '6'")
    browser.evaluate("document.getElementById('as-of-input').value = '2020-04-10'")
    browser.evaluate("document.getElementById('as-of-form').requestSubmit()")
    browser.wait_for("document.body.dataset.asOf === '2020-04-10'")
    assert_cards_match(browser.evaluate(CARD_VALUES), api, "2020-04-10")
    assert browser.evaluate("location.search") == "?as_of=2020-04-10"


def test_public_page_shows_market_wide_figures_only(api: Api) -> None:
    html = httpx.get(api.url + "/", timeout=30).text
    series = httpx.get(api.url + "/status/series.json", timeout=30).text
    for bank in ("bank0", "bank1", "bank2", "bank-late", "bank-quiet"):
        assert bank not in html
        assert bank not in series
    assert "https://" not in html
    for name in ("app.js", "charts.js", "format.js", "operator.js"):
        assert "http://" not in httpx.get(f"{api.url}/static/{name}", timeout=30).text


def test_operator_login_keeps_the_key_out_of_urls_and_local_storage(api: Api) -> None:
    key = api.operator_key
    with Browser(*LAPTOP) as browser:
        browser.goto(api.url + "/operator")
        assert browser.evaluate("document.getElementById('app').hidden") is True
        browser.type_text("#key", key)
        browser.evaluate("document.querySelector('#login button[type=submit]').click()")
        browser.wait_for("document.body.dataset.rendered === '6'")
        browser.wait_for("document.getElementById('conn').textContent === 'live'")
        assert key not in browser.evaluate("location.href")
        assert browser.evaluate("JSON.stringify(Object.entries(localStorage))") == "[]"
        assert browser.evaluate("sessionStorage.getItem('settlement.operatorKey')") == key
        assert browser.evaluate("document.getElementById('key').value") == ""
        urls = browser.request_urls()
        assert any("/v1/operator/league" in u for u in urls)
        assert not [u for u in urls if key in u]

        league = api.get("/v1/operator/league")
        rendered = browser.evaluate(
            "[...document.querySelectorAll('[data-testid=league]')].map((card) => [card.dataset.code,"
            " [...card.querySelectorAll('tr[data-bank]')].map((r) => [r.dataset.bank, r.dataset.settled,"
            " r.dataset.share, Number(r.dataset.events)])])"
        )
        assert rendered == [
            [t["code"], [[b["bank_id"], b["settled"], b["share"], b["events"]] for b in t["banks"]]]
            for t in league["targets"]
        ]
        completeness = api.get("/v1/operator/completeness")
        assert set(completeness["silent"]) == {"bank-late", "bank-quiet"}
        flagged = browser.evaluate(
            "[...document.querySelectorAll('[data-testid=completeness] tr[data-bank]')]"
            ".filter((r) => r.dataset.silent === 'true').map((r) => r.dataset.bank)"
        )
        assert set(flagged) == set(completeness["silent"])
        # Reminders and the quality league show what their APIs answer, row for row.
        browser.wait_for("document.querySelectorAll('[data-testid=quality] tr[data-bank]').length > 0")
        missing = api.get("/v1/operator/control-totals/missing")["missing"]
        assert [m["bank_id"] for m in missing].count("bank-quiet") >= 2  # the scenario is what the test means
        reminders = browser.evaluate(
            "[...document.querySelectorAll('[data-testid=reminders] tr[data-bank]')]"
            ".map((r) => [r.dataset.bank, r.dataset.period, r.dataset.state, Number(r.dataset.overdue)])"
        )
        assert reminders == [[m["bank_id"], m["period"], m["state"], m["working_days_overdue"]] for m in missing]
        period = browser.evaluate("lastEndedMonth()")
        quality = api.get("/v1/operator/quality", period=period)
        shown = browser.evaluate(
            "[...document.querySelectorAll('[data-testid=quality] tr[data-bank]')]"
            ".map((r) => [r.dataset.bank, r.dataset.score])"
        )
        assert shown == [[b["bank_id"], b["score"]] for b in quality["banks"]]
        assert {b[0] for b in shown} == {"bank0", "bank1", "bank2", "bank-late", "bank-quiet"}
        browser.screenshot(ARTIFACTS / "operator-1366x768.png", full_page=False)
        browser.viewport(*PHONE)
        browser.screenshot(ARTIFACTS / "operator-390.png")

        # The session survives a reload; signing out forgets the key.
        browser.goto(api.url + "/operator")
        browser.wait_for("document.body.dataset.rendered === '6'")
        browser.evaluate("document.getElementById('logout').click()")
        assert browser.evaluate("sessionStorage.length") == 0
        assert browser.evaluate("document.getElementById('login').hidden") is False


def test_operator_page_refuses_a_bad_key(api: Api) -> None:
    with Browser(*LAPTOP) as browser:
        browser.goto(api.url + "/operator")
        browser.type_text("#key", "stk_not-a-real-key")
        browser.evaluate("document.querySelector('#login button[type=submit]').click()")
        browser.wait_for("!document.getElementById('login-error').hidden")
        assert browser.evaluate("sessionStorage.length") == 0
        assert json.loads(browser.evaluate("JSON.stringify(document.getElementById('app').hidden)")) is True
