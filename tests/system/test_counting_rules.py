"""Issue 11 acceptance against the real stack: an event counts toward every target it
belongs to, the distinct volume counts it once, a derivation rule adds a target and a
rebuild after disabling it removes exactly that, and a closed window has an outcome."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.aggregate import probe
from tests.support.ports import PORT_VARIABLES, free_port, port_env
from tests.support.principals import add_bank_and_operator
from tests.support.services import ServiceRunner
from tests.support.stack import ROOT

pytestmark = pytest.mark.integration

RULE_ID = "rmb_ecommerce_and_cash_pool_are_cross_border_rmb"
ECOMMERCE, RMB = "cross_border_ecommerce", "cross_border_rmb"


def catalogue_file(path: Path, *, rule_enabled: bool) -> Path:
    """The shipped catalogue with the e-commerce/cash-pool -> cross-border RMB rule on or off."""
    document: dict[str, Any] = yaml.safe_load((ROOT / "seeds" / "targets.yaml").read_text(encoding="utf-8"))
    [rule] = [r for c in document["categories"] for r in c.get("rules") or [] if r["id"] == RULE_ID]
    rule["enabled"] = rule_enabled
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def stack(
    isolated_env: dict[str, str], services: ServiceRunner, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("catalogue")
    files = {
        "on": catalogue_file(folder / "rule-on.yaml", rule_enabled=True),
        "off": catalogue_file(folder / "rule-off.yaml", rule_enabled=False),
    }
    bank_key, operator_key = add_bank_and_operator(
        isolated_env["DATABASE_URL"], "rules-bank", "Rules Bank", "rules-operator"
    )
    on = {"TARGETS_FILE": str(files["on"])}
    ingest = services.serve("ingest", "settlement_ingest", on)
    services.serve("aggregate", "settlement_aggregate", on)
    api = services.serve("api", "settlement_api", on)
    urls = {"ingest": ingest.url, "api": api.url}
    return {"urls": urls, "bank_key": bank_key, "operator_key": operator_key, "files": files}


class Client:
    def __init__(self, stack: dict[str, Any]) -> None:
        self.ingest = stack["urls"]["ingest"]
        self.api = stack["urls"]["api"]
        self.bank = {"Authorization": f"Bearer {stack['bank_key']}"}
        self.operator = {"Authorization": f"Bearer {stack['operator_key']}"}

    def post(self, event: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.ingest}/v1/events", json=event, headers=self.bank, timeout=15)

    def progress(self, **params: str) -> dict[str, Any]:
        response = httpx.get(f"{self.api}/v1/progress", params=params, headers=self.operator, timeout=15)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def figures(self) -> dict[str, Decimal]:
        body = self.progress(as_of="2020-12-31")
        found = {t["code"]: Decimal(t["settled"]) for t in body["targets"]}
        found["distinct"] = Decimal(body["distinct_volume"]["amount"])
        return found

    def wait_for(self, check: Callable[[dict[str, Decimal]], bool], what: str) -> dict[str, Decimal]:
        deadline = time.monotonic() + 90
        figures = self.figures()
        while not check(figures) and time.monotonic() < deadline:
            time.sleep(0.5)
            figures = self.figures()
        assert check(figures), f"{what}: {figures}"
        return figures


def event(event_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": event_id,
        "amount": "100.00",
        "currency": "CNY",
        "value_date": "2020-06-15",
        "direction": "outbound",
        "counterparty_country": "SG",
    }
    body.update(changes)
    return body


def changed(before: dict[str, Decimal], after: dict[str, Decimal]) -> dict[str, Decimal]:
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def test_one_event_in_two_targets_counts_in_both_and_once_in_the_distinct_volume(stack: dict[str, Any]) -> None:
    client = Client(stack)
    start = client.figures()
    both = event("multi-1", categories=[ECOMMERCE, RMB])
    accepted = client.post(both)
    assert accepted.status_code == 202, accepted.text
    hundred = Decimal("100.00")
    after = client.wait_for(lambda f: f["distinct"] == start["distinct"] + hundred, "the event is counted")
    assert changed(start, after) == {ECOMMERCE: hundred, RMB: hundred, "distinct": hundred}

    # A retry is a duplicate (the same categories in another order are the same body).
    retry = client.post(event("multi-1", categories=[RMB, ECOMMERCE]))
    assert retry.status_code == 200, retry.text
    assert retry.json()["duplicate"] is True

    reversal = client.post(event("multi-1-r", category="factor_market", reverses="multi-1"))
    assert reversal.status_code == 202, reversal.text
    reversed_ = client.wait_for(lambda f: f["distinct"] == start["distinct"], "the reversal is applied")
    assert changed(start, reversed_) == {}
    assert changed(after, reversed_) == {ECOMMERCE: -hundred, RMB: -hundred, "distinct": -hundred}


def test_bad_categories_are_refused_with_pointers(stack: dict[str, Any]) -> None:
    client = Client(stack)
    cases = {
        "#/categories/2": event("bad-1", categories=[ECOMMERCE, RMB, "retail"]),
        "#/categories/1": event("bad-2", categories=[RMB, RMB]),
        "#/categories": event("bad-3", categories=[]),
    }
    for pointer, body in cases.items():
        response = client.post(body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [e["pointer"] for e in response.json()["errors"]] == [pointer]
    both = client.post(event("bad-4", category=RMB, categories=[RMB]))
    assert both.status_code == 422
    assert [e["pointer"] for e in both.json()["errors"]] == ["#/categories"]
    offshore_cny = client.post(event("bad-5", category="offshore"))
    assert offshore_cny.status_code == 422
    assert [e["pointer"] for e in offshore_cny.json()["errors"]] == ["#/currency"]


def test_a_rule_adds_a_target_and_a_rebuild_without_it_removes_exactly_that(
    stack: dict[str, Any], isolated_env: dict[str, str], services: ServiceRunner
) -> None:
    client = Client(stack)
    start = client.figures()
    hundred = Decimal("100.00")
    # E-commerce in CNY to a foreign counterparty: the rule also counts it toward RMB.
    assert client.post(event("rule-1", category=ECOMMERCE)).status_code == 202
    # Domestic and USD e-commerce do not match the rule.
    assert client.post(event("rule-2", category=ECOMMERCE, counterparty_country="CN")).status_code == 202
    assert client.post(event("rule-3", category=ECOMMERCE, currency="USD")).status_code == 202
    after = client.wait_for(lambda f: f[ECOMMERCE] > start[ECOMMERCE] + 2 * hundred, "the events are counted")
    assert after[RMB] - start[RMB] == hundred
    assert after["distinct"] - start["distinct"] > 2 * hundred  # each event once (USD converted)

    # The rule is switched off: the services restart with the new catalogue, the rebuild
    # applies it to history.
    off = {"TARGETS_FILE": str(stack["files"]["off"])}
    services.kill("aggregate")
    services.serve("aggregate", "settlement_aggregate", off)
    rebuilt = probe.settlementctl({**isolated_env, **off}, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout[-2000:] + rebuilt.stderr[-2000:]
    without = client.figures()
    assert changed(after, without) == {RMB: -hundred}
    clean = probe.settlementctl({**isolated_env, **off}, "reconcile")
    assert clean.returncode == 0, clean.stdout[-2000:] + clean.stderr[-2000:]
    assert "no drift" in clean.stdout
    # Under the old rules the same Redis state is drift: the rebuild really changed the counting.
    drift = probe.settlementctl({**isolated_env, "TARGETS_FILE": str(stack["files"]["on"])}, "reconcile")
    assert drift.returncode != 0
    assert RMB in drift.stdout


def test_a_closed_window_is_achieved_or_missed(stack: dict[str, Any]) -> None:
    body = Client(stack).progress(as_of="2021-01-05")
    assert body["period"] == "2020"
    statuses = {t["code"]: t["status"] for t in body["targets"]}
    assert len(statuses) == 6
    assert set(statuses.values()) <= {"achieved", "missed"}
    assert statuses[RMB] == "missed"  # a few hundred yuan against 6000亿元


@pytest.mark.parametrize("module", sorted(PORT_VARIABLES))
def test_a_bad_catalogue_stops_start_up_naming_the_field(
    isolated_env: dict[str, str], tmp_path: Path, module: str
) -> None:
    document: dict[str, Any] = yaml.safe_load((ROOT / "seeds" / "targets.yaml").read_text(encoding="utf-8"))
    document["categories"][0]["rules"][0]["when"]["categories"] = ["cross_border_ecommerce", "retail"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, **isolated_env, "TARGETS_FILE": str(bad), **port_env(module, free_port())}
    done = subprocess.run([sys.executable, "-m", module], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "categories[0].rules[0].when.categories[1]: unknown category 'retail'" in done.stdout + done.stderr
