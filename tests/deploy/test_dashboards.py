"""Grafana dashboards: generated JSON is committed and current; structure matches the issue."""

from __future__ import annotations

import importlib.util
import json
import re
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

GRAFANA = ROOT / "deploy" / "grafana"
DATASOURCE_UID = "settlement-prometheus"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("grafana_generate", GRAFANA / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GRAFANA / "dashboards" / name).read_text("utf-8"))
    return data


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


def test_regeneration_has_no_diff() -> None:
    rendered: dict[str, str] = generator().render()
    committed = {p.name: p.read_text("utf-8") for p in (GRAFANA / "dashboards").glob("*.json")}
    assert set(rendered) == set(committed), "run `make dashboards` and commit the JSON"
    for name, text in rendered.items():
        assert text == committed[name], f"{name} is stale: run `make dashboards` and commit it"


def test_datasource_provisioning_has_fixed_uid() -> None:
    doc = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    [source] = doc["datasources"]
    assert source["uid"] == DATASOURCE_UID
    assert source["type"] == "prometheus"
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "settlement.yml").read_text())
    assert provider["providers"][0]["type"] == "file"


@pytest.mark.parametrize("name", ["settlement-targets.json", "pipeline-health.json"])
def test_every_query_uses_the_provisioned_datasource(name: str) -> None:
    for panel in panels(load(name)):
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
            assert target["expr"].strip()


def test_panel_ids_unique() -> None:
    for name in ("settlement-targets.json", "pipeline-health.json"):
        ids = [p["id"] for p in load(name)["panels"]]
        assert len(ids) == len(set(ids)), name


def test_settlement_targets_content() -> None:
    board = load("settlement-targets.json")
    assert re.search(r"[\u4e00-\u9fff]", board["title"])  # Chinese
    assert "Settlement targets" in board["title"]  # and English
    by_type: dict[str, list[dict[str, Any]]] = {}
    for panel in panels(board):
        assert re.search(r"[\u4e00-\u9fff]", panel["title"]), panel["title"]
        assert re.search(r"[A-Za-z]", panel["title"]), panel["title"]
        by_type.setdefault(panel["type"], []).append(panel)
    gauge = next(p for p in by_type["bargauge"] if "Progress ratio" in p["title"])
    steps = gauge["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert len(steps) >= 3
    assert "settlement_settled_cny" in gauge["targets"][0]["expr"]
    stat_units = {p["fieldConfig"]["defaults"].get("unit") for p in by_type["stat"]}
    assert {"suffix: 亿元", "suffix: 亿美元"} <= stat_units
    exprs = " ".join(t["expr"] for p in panels(board) for t in p["targets"])
    for needle in (
        'settlement_rolling_settled_cny{window="24h"',
        "settlement_expected_ratio",
        "settlement_bank_settled_cny",
    ):
        assert needle in exprs


def test_pipeline_health_content() -> None:
    exprs = " ".join(t["expr"] for p in panels(load("pipeline-health.json")) for t in p["targets"])
    for needle in (
        "ingest_events_total",
        'ingest_http_requests_total{status=~"5.."}',
        "ingest_http_request_duration_seconds_bucket",
        "aggregate_consumer_lag",
        "aggregate_dlq_total",
        "aggregate_last_applied_timestamp_seconds",
        "up{",
    ):
        assert needle in exprs


def test_generator_module_is_importable_without_side_effects() -> None:
    before = {p: p.stat().st_mtime_ns for p in (GRAFANA / "dashboards").glob("*.json")}
    generator()
    assert before == {p: p.stat().st_mtime_ns for p in (GRAFANA / "dashboards").glob("*.json")}
