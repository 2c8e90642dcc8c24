"""Scale-out: three aggregator processes share the group (cooperative-sticky); one is
SIGKILLed mid-stream and one is added mid-stream. Each partition has one writer at a time
(the ledger's fence refuses a stale one), so nothing is applied twice."""

from __future__ import annotations

import time

import pytest

from tests.aggregate import probe
from tests.cluster import harness
from tests.cluster.conftest import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.integration]


def test_kill_one_of_three_aggregators_and_add_one(cluster: Cluster) -> None:
    cluster.start_services(aggregators=3)
    intake = cluster.intake()
    intake.start()
    time.sleep(6)
    fault_at = time.monotonic()
    cluster.services.kill("aggregate-1")  # SIGKILL: its partitions move after the session timeout
    time.sleep(8)
    cluster.start_aggregator("aggregate-3")
    time.sleep(10)
    cluster.finish("scale-out: SIGKILL 1 of 3 aggregators, add a 4th", intake, fault_at)
    # One row per Kafka record: no partition had two writers recording the same offsets.
    assert (
        harness.scalar(
            cluster.env["DATABASE_URL"],
            "SELECT count(*) - count(DISTINCT (kafka_partition, kafka_offset)) FROM ledger_events",
        )
        == 0
    )
    # The Kafka offsets are committed too (advisory), so lag tooling sees the real position.
    ends = {p: end for p, end in probe.end_offsets(cluster.env).items() if end > 0}
    harness.wait_until("Kafka commits at the log end", lambda: harness.committed_offsets(cluster.env) == ends, 60)
