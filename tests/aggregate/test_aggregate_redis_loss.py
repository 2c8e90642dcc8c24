"""Redis loss: the test's Redis database is flushed mid-stream; `settlementctl rebuild`
(while the aggregator runs, and again with it stopped) restores the exact totals."""

from __future__ import annotations

import signal
import time

import pytest

from tests.aggregate import probe
from tests.aggregate.streams import generate, oracle, totals_from_fields
from tests.support.ledger_checks import assert_reconciled
from tests.support.services import ServiceRunner

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def wait_progress(env: dict[str, str], at_least: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while sum(probe.ledger_positions(env).values()) < at_least:
        assert time.monotonic() < deadline, "the aggregator made no progress"
        time.sleep(0.1)


def test_flushdb_mid_stream_then_rebuild_is_exact(isolated_env: dict[str, str], services: ServiceRunner) -> None:
    msgs = generate(77, originals=9000, tag="l")
    expected = oracle(msgs)
    half = len(msgs) // 2
    services.serve("aggregate", "settlement_aggregate", {"AGGREGATE_BATCH_SIZE": "500"})
    prod = probe.producer(isolated_env)
    probe.produce(prod, isolated_env["EVENTS_TOPIC"], msgs[:half])
    wait_progress(isolated_env, half // 3)

    client = probe.redis_client(isolated_env)
    client.flushdb()  # this module's own Redis database only
    probe.produce(prod, isolated_env["EVENTS_TOPIC"], msgs[half:])
    rebuilt = probe.settlementctl(isolated_env, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    probe.wait_caught_up(isolated_env)
    actual = totals_from_fields(probe.summed_fields(isolated_env))
    assert actual.totals == expected.totals
    assert actual.counts == expected.counts

    # Again with nothing running that could heal Redis by itself: only rebuild can.
    services.kill("aggregate", signal.SIGTERM)
    before = probe.summed_fields(isolated_env)
    client.flushdb()
    lagging = probe.settlementctl(isolated_env, "reconcile", "--max-lag", "0")
    assert lagging.returncode == 2, lagging.stdout + lagging.stderr
    rebuilt = probe.settlementctl(isolated_env, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert probe.caught_up(isolated_env, probe.end_offsets(isolated_env))
    assert probe.summed_fields(isolated_env) == before
    assert_reconciled(isolated_env)
