"""Schemathesis against both live services: every check, every phase (examples, coverage,
fuzzing, stateful), a fixed seed and a bounded number of examples; any failure fails.

No check is excluded. `hooks.py` supplies what the documents cannot state (pacs.008 bodies
for application/xml, the from/to rules between parameters).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS
from tests.contract.conftest import LiveStack

pytestmark = pytest.mark.integration

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
SEED = 20161231
MAX_EXAMPLES = 30
PHASES: tuple[str, ...] = ("Examples", "Coverage", "Fuzzing", "Stateful")


# Operator-only operations, run with an operator key; everything else with a bank key (an
# operator must name the bank on some reads, which a document cannot tie to the key).
OPERATOR_PATHS = "^/v1/(operator|report|audit)"


def run_schemathesis(
    url: str, key: str, name: str, *scope: str, phases: tuple[str, ...] = PHASES
) -> subprocess.CompletedProcess[str]:
    report_dir = ARTIFACTS / "schemathesis" / name
    return subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{url}/openapi.json",
            "--header",
            f"Authorization: Bearer {key}",
            "--checks",
            "all",
            "--phases",
            ",".join(p.lower() for p in phases),
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--workers",
            "1",  # the suite shares the machine; one worker keeps the services' load fair
            "--report",
            "junit",
            "--report-dir",
            str(report_dir),
            "--no-color",
            *scope,
        ],
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.contract.hooks"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.parametrize("service", ["ingest", "api", "api-operator"])
def test_schemathesis_finds_no_failure(live: LiveStack, service: str) -> None:
    phases = PHASES
    if service == "ingest":
        done = run_schemathesis(live.ingest_url, live.bank_key, service)
    elif service == "api":
        done = run_schemathesis(live.api_url, live.bank_key, service, "--exclude-path-regex", OPERATOR_PATHS)
    else:
        # No links lead between the three operator reads, so there is no stateful phase to run.
        phases = PHASES[:3]
        done = run_schemathesis(
            live.api_url, live.operator_key, service, "--include-path-regex", OPERATOR_PATHS, phases=phases
        )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-20000:]
    assert "No issues found" in output, output[-5000:]
    # Every phase ran (a phase without links or examples would show as skipped).
    for phase in phases:
        assert f"✅ {phase}" in output, f"phase {phase} did not run:\n{output[-5000:]}"
