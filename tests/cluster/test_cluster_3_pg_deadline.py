"""PostgreSQL answers swallowed on open connections, under load: the nemesis's hang (seed
20261207, docs/operations.md "Nemesis"). Both aggregators blocked in a ledger call for good
after a network fault on PostgreSQL: the connection stayed open and acknowledged at the TCP
level while its answers were lost, so keepalives, tcp_user_timeout and a server-side
statement_timeout saw nothing and psycopg waited for ever.

Here the aggregators reach the primary through a loopback forwarder that, for 10 s, reads
and drops everything the server sends and then forwards again, leaving every connection
open: whatever query was in flight never gets its answer. Before the round-trip deadline
(settlement_core.db.deadline) the aggregators never came back (the acknowledged events
stayed out of the ledger: `finish` fails after 240 s). Now each stalled call fails after
DATABASE_ROUND_TRIP_DEADLINE_S (default 20 s), its connection is dropped, and the retry
redoes the batch; a commit that took effect but lost its answer is fenced by the offset rows
(nothing counted twice; `finish` checks the ledger, reconcile and the API against the oracle).
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy.engine import make_url

from tests.aggregate.tcp_proxy import TcpProxy
from tests.cluster import harness
from tests.cluster.conftest import Cluster
from tests.support.ports import LOOPBACK

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

SWALLOW_S = 10.0


def test_answers_swallowed_on_open_connections_stall_no_aggregator(cluster: Cluster) -> None:
    env = cluster.env
    forwarder = TcpProxy(LOOPBACK, int(env["CLUSTER_PG_PORT"]))  # the primary itself, not toxiproxy
    forwarder.start()
    url = make_url(env["DATABASE_URL"]).set(host=LOOPBACK, port=forwarder.port, query={})
    through = {"DATABASE_URL": url.render_as_string(hide_password=False)}
    try:
        cluster.start_services(aggregators=0)
        for name in ("aggregate-0", "aggregate-1"):
            cluster.urls[name] = cluster.services.serve(name, "settlement_aggregate", through).url
        intake = cluster.intake()
        intake.start()
        time.sleep(8)
        assert harness.scalar(env["DATABASE_URL"], "SELECT count(*) FROM ledger_events") > 0
        fault_at = time.monotonic()
        forwarder.swallow()
        time.sleep(SWALLOW_S)
        forwarder.swallow(False)  # forwarding again; the stalled connections stay open
        # (a commit sent during the fault took effect: only its answer was lost)
        recorded = harness.scalar(env["DATABASE_URL"], "SELECT count(*) FROM ledger_events")
        harness.wait_until(
            "ledger writes after the fault",
            lambda: harness.scalar(env["DATABASE_URL"], "SELECT count(*) FROM ledger_events") > recorded,
            timeout=120,
        )
        resumed = time.monotonic() - fault_at
        cluster.finish(
            "postgres: answers swallowed 10 s on open connections",
            intake,
            fault_at,
            note=f"ledger writes resumed {resumed:.1f}s after the fault began",
        )
    finally:
        forwarder.cut()
