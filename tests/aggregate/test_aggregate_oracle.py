"""Oracle test: a seeded random stream through the real pipeline; the Redis totals per
target x day x currency (and month, year, event counts) equal an independent Decimal
computation (tests/aggregate/streams.py), and `settlementctl reconcile` finds no drift."""

from __future__ import annotations

import os

import pytest

from tests.aggregate import probe
from tests.aggregate.streams import generate, oracle, totals_from_fields
from tests.conftest import ServiceRunner, free_port

pytestmark = pytest.mark.integration

SEED = int(os.environ.get("AGGREGATE_ORACLE_SEED", "20200417"))


def test_random_stream_totals_equal_the_oracle(isolated_env: dict[str, str],
                                               services: ServiceRunner) -> None:
    msgs = generate(SEED, originals=8000)
    kinds = {m.kind for m in msgs}
    assert {"original", "duplicate", "conflict", "reversal", "reversal-twice"} <= kinds
    assert any(m.poison for m in msgs)
    expected = oracle(msgs)
    assert expected.totals, "the oracle computed nothing"

    port = free_port()
    # Small batches so that a reversal and its original often land in different batches.
    services.start("aggregate", "settlement_aggregate", port,
                   extra_env={"AGGREGATE_PORT": str(port), "AGGREGATE_BATCH_SIZE": "500"})
    probe.produce(probe.producer(isolated_env), isolated_env["EVENTS_TOPIC"], msgs)
    probe.wait_caught_up(isolated_env)

    actual = totals_from_fields(probe.summed_fields(isolated_env))
    missing = {k: v for k, v in expected.totals.items() if actual.totals.get(k) != v}
    extra = {k: v for k, v in actual.totals.items() if k not in expected.totals}
    assert not missing, list(missing.items())[:5]
    assert not extra, list(extra.items())[:5]
    assert actual.counts == expected.counts
    assert probe.scalar(isolated_env, "SELECT count(*) FROM ledger_events WHERE reverses IS NULL"
                        ) == expected.counted_events

    reconcile = probe.settlementctl(isolated_env, "reconcile")
    assert reconcile.returncode == 0, reconcile.stdout[-2000:] + reconcile.stderr[-2000:]
    assert "no drift" in reconcile.stdout
