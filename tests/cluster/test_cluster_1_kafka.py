"""Kafka faults on the three-node KRaft cluster (RF 3, min ISR 2), modelled on Kafka's own
replication_test: background intake over HTTP, one fault, then every acknowledged event is
in the ledger exactly once, reconcile is clean and the API equals the Decimal oracle."""

from __future__ import annotations

import signal
import time

import pytest

from tests.cluster import harness
from tests.cluster.conftest import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

WARMUP_S = 6.0
# A dead broker stays down this long, well past the broker session timeout: with RF 3 every
# bank is acknowledged again meanwhile (with RF 1 the banks on its partitions are not).
AFTER_FAULT_S = 20.0
# broker.session.timeout.ms (9 s) plus grace: the controller has fenced the dead broker and
# moved its leaderships before it comes back.
SESSION_AND_GRACE_S = 12.0


def _busiest_leader(cluster: Cluster) -> int:
    """The broker leading the partition that has received the most events."""
    from tests.aggregate import probe

    ends = probe.end_offsets(cluster.env)
    busiest = max(ends, key=lambda p: ends[p])
    return harness.partition_leaders(cluster.env, cluster.env["EVENTS_TOPIC"])[busiest]


def _full_isr(cluster: Cluster) -> None:
    harness.wait_until("full ISR again", lambda: harness.isr_full(cluster.env, cluster.env["EVENTS_TOPIC"]), 120)


def _run_leader_fault(cluster: Cluster, name: str, sig: int, bounces: int = 1) -> None:
    cluster.start_services()
    intake = cluster.intake()
    intake.start()
    time.sleep(WARMUP_S)
    fault_at = time.monotonic()
    victims = []
    for _ in range(bounces):
        leader = _busiest_leader(cluster)
        victims.append(leader)
        harness.signal_node(f"kafka-{leader}", sig)
        time.sleep(SESSION_AND_GRACE_S if bounces > 1 else AFTER_FAULT_S)
        down_s = time.monotonic() - fault_at
        harness.stack("start", f"kafka-{leader}")
        if bounces > 1:
            _full_isr(cluster)
    time.sleep(3)
    outcome = cluster.finish(name, intake, fault_at, note=f"brokers {victims}")
    _full_isr(cluster)
    if bounces == 1:
        assert outcome.recovery_s < down_s, "a bank got no acknowledgement while one broker was down"


def test_sigterm_partition_leader(cluster: Cluster) -> None:
    _run_leader_fault(cluster, "kafka: SIGTERM leader of the busiest partition", signal.SIGTERM)


def test_sigkill_partition_leader(cluster: Cluster) -> None:
    _run_leader_fault(cluster, "kafka: SIGKILL leader of the busiest partition", signal.SIGKILL)


def test_hard_bounce_leader_five_times(cluster: Cluster) -> None:
    _run_leader_fault(cluster, "kafka: hard-bounce the leader 5 times", signal.SIGKILL, bounces=5)


def test_kill_active_controller(cluster: Cluster) -> None:
    cluster.start_services()
    intake = cluster.intake()
    intake.start()
    time.sleep(WARMUP_S)
    controller = harness.active_controller(cluster.env)
    fault_at = time.monotonic()
    harness.signal_node(f"kafka-{controller}", signal.SIGKILL)
    harness.wait_until("a new KRaft leader", lambda: harness.controller_moved(cluster.env, controller), timeout=60)
    time.sleep(AFTER_FAULT_S)
    down_s = time.monotonic() - fault_at
    harness.stack("start", f"kafka-{controller}")
    time.sleep(3)
    outcome = cluster.finish("kafka: SIGKILL the active controller", intake, fault_at, note=f"controller {controller}")
    _full_isr(cluster)
    assert outcome.recovery_s < down_s, "a bank got no acknowledgement while one broker was down"
