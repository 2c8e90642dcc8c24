"""The nemesis campaign (issue 26; tests/nemesis): banks record a history while seeded
faults overlap (SIGKILL, SIGTERM and SIGSTOP of services, brokers, Redis nodes and the
PostgreSQL primary; latency, bandwidth, timeouts, resets and partitions through toxiproxy
when the stack runs with NEMESIS_PROXY=1); then everything heals and an independent checker
holds the ledger and the API to the acknowledged history.

`make test-cluster` runs a short fixed-seed campaign (NEMESIS_MINUTES, default 3) without
the PostgreSQL promotion, which test_cluster_4_postgres does last; `make nemesis` runs a
long one (MINUTES, SEED) with it. Results under $NEMESIS_RESULTS (default
test-artifacts/nemesis/seed-<seed>): history.jsonl, summary.md, timeline.png."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cluster.conftest import Cluster
from tests.nemesis import campaign
from tests.support.stack import ARTIFACTS

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

SEED = int(os.environ.get("NEMESIS_SEED", "20261207"))
MINUTES = float(os.environ.get("NEMESIS_MINUTES", "3"))
PROMOTE = os.environ.get("NEMESIS_PROMOTE", "0") == "1"


def test_nemesis_campaign_loses_nothing_and_counts_nothing_twice(cluster: Cluster) -> None:
    folder = Path(os.environ.get("NEMESIS_RESULTS", ARTIFACTS / "nemesis" / f"seed-{SEED}"))
    result = campaign.run(cluster, SEED, MINUTES, folder, promote=PROMOTE)
    assert result.plan.faults, "the schedule injected nothing"
    assert result.verdict.ok, "\n".join([*result.verdict.problems(), *result.notes])
    errors = [n for n in result.notes if n.startswith(("nemesis:", "client "))]
    assert not errors, errors
