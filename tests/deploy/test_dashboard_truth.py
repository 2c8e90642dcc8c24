"""Dashboard truth test: every Grafana panel query returns data from the project's Prometheus.

Needs the lead's end-to-end stack: `deploy/local/stack.sh start infra services feed` (what
`make run` does) — the shared Prometheus scrapes the fixed ports INGEST_PORT/API_PORT/
AGGREGATE_PORT from .stack/stack.env, so the services must run there. The test skips, saying
so, only when those services are not running; once they run, any empty panel query fails
unless it is in ALLOWLIST with a reason.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.ports import stack_url
from tests.support.stack import ROOT, STACK_DIR, stack_env

pytestmark = pytest.mark.integration

DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
# (dashboard file, panel title, refId) -> why an empty result is correct there.
ALLOWLIST: dict[tuple[str, str, str], str] = {
    (
        "pipeline-health.json",
        "Firing alerts",
        "A",
    ): 'ALERTS{alertstate="firing"} is empty when nothing is wrong: the healthy state',
    (
        "pipeline-health.json",
        "Applied events and DLQ (events/s)",
        "B",
    ): "aggregate_dlq_total{reason} series appear only after the first DLQ entry; a clean "
    "demo feed may send none (the 'DLQ entries (last hour)' stat covers the zero case)",
}
# Grafana's built-in variables, resolved as Grafana would for a 5s scrape interval.
BUILTINS = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}
SERVICES = ("ingest", "aggregate", "api")


@dataclass(frozen=True, slots=True)
class PanelQuery:
    board: str
    panel: str
    ref: str
    expr: str
    instant: bool


def panel_queries() -> list[PanelQuery]:
    queries: list[PanelQuery] = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text("utf-8"))
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                queries.append(
                    PanelQuery(path.name, panel["title"], target["refId"], target["expr"], bool(target.get("instant")))
                )
    return queries


def stack_services_running() -> tuple[bool, str]:
    status = subprocess.run(
        ["bash", str(ROOT / "deploy" / "local" / "stack.sh"), "status"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "STACK_DIR": str(STACK_DIR)},
    )
    lines = dict(line.split(": ", 1) for line in status.stdout.splitlines() if ": " in line)
    missing = [name for name in ("prometheus", *SERVICES) if not lines.get(name, "").startswith("running")]
    return not missing, ", ".join(missing)


@pytest.fixture(scope="module")
def prometheus() -> str:
    running, missing = stack_services_running()
    if not running:
        pytest.skip(
            f"the end-to-end stack is not running ({missing} stopped): start it with "
            "`deploy/local/stack.sh start infra services feed` (make run) and rerun"
        )
    env = stack_env()
    url = stack_url(env, "PROM_PORT")
    deadline = time.monotonic() + 120
    problems = "not checked"
    # Wait for Prometheus to scrape all three services and for the feed's data to show up.
    while time.monotonic() < deadline:
        up = instant(url, 'up{job=~"ingest|api|aggregate"} == 1')
        jobs = {r["metric"]["job"] for r in up}
        counted = instant(url, "sum(settlement_events_counted)")
        have_data = bool(counted) and float(counted[0]["value"][1]) > 0
        if jobs >= set(SERVICES) and have_data:
            return url
        problems = f"jobs up: {sorted(jobs)}, events counted: {have_data}"
        time.sleep(3)
    pytest.fail(f"Prometheus at {url} never saw all services up with data ({problems})")


def instant(url: str, expr: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=15)
    body = response.json()
    assert body["status"] == "success", f"{expr}: {body}"
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def ranged(url: str, expr: str) -> list[dict[str, Any]]:
    end = time.time()
    response = httpx.get(
        f"{url}/api/v1/query_range", timeout=15, params={"query": expr, "start": end - 600, "end": end, "step": 15}
    )
    body = response.json()
    assert body["status"] == "success", f"{expr}: {body}"
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def variable_values(url: str) -> dict[str, str]:
    """Each dashboard variable -> regex of all its values (the 'All' selection)."""
    values: dict[str, str] = {}
    for path in sorted(DASHBOARDS.glob("*.json")):
        for var in json.loads(path.read_text("utf-8")).get("templating", {}).get("list", []):
            match = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", var["query"])
            assert match, f"unsupported variable query {var['query']!r}"
            metric, label = match.groups()
            found = httpx.get(f"{url}/api/v1/label/{label}/values", params={"match[]": metric}, timeout=15).json()[
                "data"
            ]
            assert found, f"variable {var['name']}: no values for {metric}"
            values[var["name"]] = "|".join(re.escape(v) for v in found)
    return values


def substitute(expr: str, variables: dict[str, str]) -> str:
    for name, value in BUILTINS.items():
        expr = expr.replace(name, value)
    for name, value in variables.items():
        expr = expr.replace("${" + name + "}", value).replace("$" + name, value)
    assert "$" not in expr, f"unsubstituted variable in {expr}"
    return expr


def test_allowlist_entries_exist() -> None:
    keys = {(q.board, q.panel, q.ref) for q in panel_queries()}
    assert set(ALLOWLIST) <= keys, set(ALLOWLIST) - keys


def test_every_panel_query_returns_data(prometheus: str) -> None:
    variables = variable_values(prometheus)
    empty: list[str] = []
    for q in panel_queries():
        expr = substitute(q.expr, variables)
        result = instant(prometheus, expr) if q.instant else ranged(prometheus, expr)
        if not result and (q.board, q.panel, q.ref) not in ALLOWLIST:
            empty.append(f"{q.board} / {q.panel} / {q.ref}: {expr}")
    assert not empty, "panel queries without data:\n" + "\n".join(empty)
