"""PostgreSQL primary failure: `pg_ctl -m immediate stop` on the primary under load, then
promote the synchronous standby. The services reconnect through the multi-host URL
(target_session_attrs=read-write) and nothing acknowledged is lost (the standby had every
commit: it was synchronous). Runs last: afterwards the cluster has no standby."""

from __future__ import annotations

import time

import pytest

from tests.cluster import harness
from tests.cluster.conftest import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.integration]


def test_immediate_stop_of_primary_then_promote_standby(cluster: Cluster) -> None:
    env = cluster.env
    cluster.start_services()
    intake = cluster.intake()
    intake.start()
    time.sleep(6)
    pg_ctl = f"{env['PG_BIN']}/pg_ctl"
    fault_at = time.monotonic()
    stopped = harness.as_postgres(pg_ctl, "-D", f"{env['PG_HOME']}/primary", "-m", "immediate", "stop")
    assert stopped.returncode == 0, stopped.stderr
    time.sleep(2)  # the services see a dead primary and a read-only standby meanwhile
    promoted = harness.as_postgres(pg_ctl, "-D", f"{env['PG_HOME']}/standby", "-w", "promote")
    assert promoted.returncode == 0, promoted.stderr
    # Intake does not need PostgreSQL (keys are cached in Redis); the aggregator does: time
    # until the ledger grows again on the new primary.
    recorded = harness.scalar(env["DATABASE_URL"], "SELECT count(*) FROM ledger_events")
    harness.wait_until(
        "ledger writes on the new primary",
        lambda: harness.scalar(env["DATABASE_URL"], "SELECT count(*) FROM ledger_events") > recorded,
        timeout=120,
    )
    resumed = time.monotonic() - fault_at
    time.sleep(8)
    cluster.finish(
        "postgres: immediate stop of the primary, promote the standby",
        intake,
        fault_at,
        note=f"ledger writes resumed {resumed:.1f}s after the stop",
    )
    # The aggregator and the API really moved: the old primary is down for good.
    assert harness.scalar(env["DATABASE_URL"], "SELECT CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END") == 0
