"""The operator page's control-total breaks in real headless Chromium (tests/api/cdp.py)
against a real API process: the open breaks shown are the API's, and acknowledging one with a
note from the page resolves it with the operator's name and note in its trail.

The ledger rows are written as the aggregator writes them (tests/api/ledger_state.py); the
real aggregator's counting is covered by test_control_totals_stack.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.api.cdp import Browser
from tests.api.ledger_state import Event, LedgerState
from tests.conftest import ARTIFACTS, ServiceRunner, free_port

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_the_operator_sees_open_breaks_and_acknowledges_one_with_a_note(
    isolated_env: dict[str, str], services: ServiceRunner
) -> None:
    state = LedgerState(isolated_env)
    operator = {"Authorization": f"Bearer {state.add_operator('ops')}"}
    banks = {b: {"Authorization": f"Bearer {state.add_bank(b)}"} for b in ("pageA", "pageB")}
    state.count(Event("pageA", "a1", "cross_border_rmb", Decimal("100.00"), "CNY", date(2020, 1, 10)))
    state.count(Event("pageB", "b1", "offshore", Decimal("5.00"), "USD", date(2020, 1, 10)))
    state.close()
    port = free_port()
    services.start("api", "settlement_api", port, {"API_PORT": str(port), "PUBLIC_MODE": "false"})
    url = f"http://127.0.0.1:{port}"
    # Bank A declares one event more than it sent; bank B declares nothing for its event.
    declarations = {
        "pageA": [{"target": "cross_border_rmb", "currency": "CNY", "count": 2, "amount": "150.00"}],
        "pageB": [],
    }
    for bank, lines in declarations.items():
        response = httpx.post(
            f"{url}/v1/control-totals", json={"period": "2020-01", "lines": lines}, headers=banks[bank], timeout=30
        )
        assert response.status_code == 201, response.text
    listed: list[dict[str, Any]] = httpx.get(
        f"{url}/v1/operator/control-totals/breaks", headers=operator, timeout=30
    ).json()["breaks"]
    assert [(b["bank_id"], b["count_difference"], b["amount_difference"]) for b in listed] == [
        ("pageA", 1, "50.00"),
        ("pageB", -1, "-5.00"),
    ]

    note = "Confirmed with pageA: one payment was returned before settlement."
    with Browser(1366, 768) as browser:
        browser.goto(url + "/operator")
        browser.type_text("#key", operator["Authorization"].removeprefix("Bearer "))
        browser.evaluate("document.querySelector('#login button[type=submit]').click()")
        browser.wait_for("document.querySelectorAll('[data-testid=breaks] tr[data-break]').length === 2")
        shown = browser.evaluate(
            "[...document.querySelectorAll('[data-testid=breaks] tr[data-break]')]"
            ".map((r) => [Number(r.dataset.break), r.dataset.bank])"
        )
        assert shown == [[b["id"], b["bank_id"]] for b in listed]
        browser.screenshot(ARTIFACTS / "operator-breaks-1366x768.png")
        first = listed[0]["id"]
        row = f"[data-testid=breaks] tr[data-break='{first}']"
        browser.type_text(f"{row} input[data-testid=note]", note)
        browser.evaluate(f'document.querySelector("{row} button[data-testid=acknowledge]").click()')
        browser.wait_for("document.querySelectorAll('[data-testid=breaks] tr[data-break]').length === 1")

    seen = httpx.get(
        f"{url}/v1/control-totals/2020-01", params={"bank_id": "pageA"}, headers=operator, timeout=30
    ).json()
    [acknowledged] = seen["breaks"]
    assert acknowledged["status"] == "acknowledged"
    last = acknowledged["trail"][-1]
    assert (last["action"], last["actor"], last["note"]) == ("acknowledged", "operator:ops", note)
    remaining = httpx.get(f"{url}/v1/operator/control-totals/breaks", headers=operator, timeout=30).json()
    assert [b["bank_id"] for b in remaining["breaks"]] == ["pageB"]
