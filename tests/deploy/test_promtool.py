"""promtool check config / check rules / test rules, and coverage of the rule unit tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.promtool

PROM = ROOT / "deploy" / "prometheus"
RULE_FILES = sorted(PROM.glob("*.rules.yml"))
TEST_FILES = sorted((PROM / "tests").glob("*.yml"))


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool not found: apt-get install -y prometheus (make install does)")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120, check=False)


def test_rule_files_exist() -> None:
    assert [p.name for p in RULE_FILES] == ["settlement.rules.yml"]
    assert TEST_FILES


def test_check_config(tmp_path: Path) -> None:
    # The api-banks job reads its bearer token from a file beside the config, which promtool
    # insists exists; stack.sh writes the real one (0600) where it runs Prometheus.
    for source in (PROM / "prometheus.yml", *RULE_FILES):
        shutil.copy(source, tmp_path / source.name)
    (tmp_path / "metrics_scrape_token").write_text("test-token\n")
    result = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout + result.stderr  # the *.rules.yml glob
    jobs = {job["job_name"]: job for job in yaml.safe_load((PROM / "prometheus.yml").read_text())["scrape_configs"]}
    assert jobs["api-banks"]["metrics_path"] == "/metrics/banks"
    assert jobs["api-banks"]["authorization"]["credentials_file"] == "metrics_scrape_token"


def test_check_rules() -> None:
    result = promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests() -> None:
    result = promtool("test", "rules", *map(str, TEST_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def _alerts() -> set[str]:
    names: set[str] = set()
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            names |= {r["alert"] for r in group["rules"] if "alert" in r}
    return names


def _alert_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in TEST_FILES:
        for test in yaml.safe_load(path.read_text())["tests"]:
            cases += test.get("alert_rule_test", [])
    return cases


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    alerts = _alerts()
    assert {
        "IngestHigh5xxRatio",
        "ConsumerLagHigh",
        "AggregatorDown",
        "DlqGrowing",
        "TargetBehindPace",
        "UnconvertedAmounts",
    } <= alerts
    cases = _alert_cases()
    for alert in alerts:
        mine = [c for c in cases if c["alertname"] == alert]
        assert any(c.get("exp_alerts") for c in mine), f"{alert}: no firing case"
        assert any(not c.get("exp_alerts") for c in mine), f"{alert}: no not-firing case"


def test_a_broken_expectation_fails(tmp_path: Path) -> None:
    """The harness can fail: flip one expectation and promtool must report it."""
    source = (PROM / "tests" / "settlement_test.yml").read_text()
    broken = source.replace("value: 0.25", "value: 0.26", 1)
    assert broken != source
    rules_dir = tmp_path / "tests"
    rules_dir.mkdir()
    for rule in RULE_FILES:
        shutil.copy(rule, tmp_path / rule.name)
    (rules_dir / "broken_test.yml").write_text(broken)
    result = promtool("test", "rules", str(rules_dir / "broken_test.yml"))
    assert result.returncode != 0
