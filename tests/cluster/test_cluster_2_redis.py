"""Redis Cluster faults. Replication is asynchronous, so killing a master can drop writes it
had acknowledged (fence and buckets together): the aggregator must notice the fence behind
the ledger and replay the ledger above it by itself. A planned CLUSTER FAILOVER loses
nothing and needs no repair."""

from __future__ import annotations

import signal
import time

import pytest
import redis

from settlement_core.buckets import fence_key
from tests.aggregate import probe
from tests.cluster import harness
from tests.cluster.conftest import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

WARMUP_S = 6.0
# Long enough that the master applies batches its (stopped) replica never receives.
REPLICA_STALL_S = 2.0
REPAIR_LINES = ("projection behind the ledger, repairing", "fence behind the ledger, replaying")


def _node(cluster: Cluster, port: int) -> redis.Redis:
    return redis.Redis(port=port, password=cluster.env["REDIS_PASSWORD"], decode_responses=True, socket_timeout=5)


def _is_master(cluster: Cluster, port: int) -> bool:
    try:
        return str(_node(cluster, port).role()[0]) == "master"
    except redis.RedisError:
        return False


def _busiest_partition(cluster: Cluster) -> int:
    ends = probe.end_offsets(cluster.env)
    return max(ends, key=lambda p: ends[p])


def _repairs(cluster: Cluster) -> int:
    log = (cluster.services.logdir / "aggregate-0.log").read_text(errors="replace")
    return sum(log.count(line) for line in REPAIR_LINES)


def _fence_lags(cluster: Cluster) -> dict[str, float]:
    return dict(harness.iter_metric(cluster.aggregator_metrics("aggregate-0"), "aggregate_projection_fence_lag"))


def test_sigkill_master_during_applies_is_repaired_without_an_operator(cluster: Cluster) -> None:
    cluster.start_services()
    intake = cluster.intake()
    intake.start()
    time.sleep(WARMUP_S)
    partition = _busiest_partition(cluster)
    master, replica = harness.master_and_replica_of(cluster.env, fence_key(partition))
    replica_name, master_name = (
        harness.redis_node_name(cluster.env, replica),
        harness.redis_node_name(cluster.env, master),
    )
    fault_at = time.monotonic()
    # Make the asynchronous replication lag real: stop the replica, cut its link on the
    # master's side (what its kernel had already received it would still read on waking),
    # let the master apply batches alone, then kill the master.
    harness.signal_node(replica_name, signal.SIGSTOP)
    try:
        _node(cluster, master).client_kill_filter(_type="replica")
        time.sleep(REPLICA_STALL_S)
        harness.signal_node(master_name, signal.SIGKILL)
    finally:
        harness.signal_node(replica_name, signal.SIGCONT)
    promoted = harness.wait_until("replica promoted", lambda: _is_master(cluster, replica), timeout=60)
    time.sleep(8)
    harness.stack("start", master_name)  # it rejoins as a replica of the promoted node
    outcome = cluster.finish(
        "redis: SIGKILL a master during applies", intake, fault_at, note=f"promotion after {promoted:.1f}s"
    )
    assert _repairs(cluster) > 0, "the failover lost no applied write: the test did not exercise the repair"
    lags = _fence_lags(cluster)
    assert lags
    assert all(v == 0 for v in lags.values()), lags
    assert outcome.drift == 0


def test_planned_cluster_failover_needs_no_repair(cluster: Cluster) -> None:
    cluster.start_services()
    intake = cluster.intake()
    intake.start()
    time.sleep(WARMUP_S)
    partition = _busiest_partition(cluster)
    _, replica = harness.master_and_replica_of(cluster.env, fence_key(partition))
    fault_at = time.monotonic()
    _node(cluster, replica).cluster("FAILOVER")
    harness.wait_until("replica took over", lambda: _is_master(cluster, replica), timeout=60)
    time.sleep(8)
    cluster.finish("redis: planned CLUSTER FAILOVER", intake, fault_at)
    assert _repairs(cluster) == 0
    lags = _fence_lags(cluster)
    assert lags
    assert all(v == 0 for v in lags.values()), lags
