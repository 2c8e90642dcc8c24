"""Rebalance: two aggregator instances share the partitions; one is stopped mid-stream
and later a new one joins. Every event is counted exactly once."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from tests.aggregate import probe
from tests.aggregate.streams import generate, oracle, totals_from_fields
from tests.support.ledger_checks import assert_reconciled
from tests.support.services import ServiceRunner

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_instance_stopped_mid_stream_loses_and_doubles_nothing(
    isolated_env: dict[str, str], services: ServiceRunner
) -> None:
    msgs = generate(99, originals=12_000, tag="b")
    expected = oracle(msgs)

    def start(name: str) -> None:
        services.serve(name, "settlement_aggregate", {"AGGREGATE_BATCH_SIZE": "500"})

    start("a")
    start("b")
    prod = probe.producer(isolated_env)
    chunks = [msgs[i : i + 1000] for i in range(0, len(msgs), 1000)]

    def feed() -> None:
        for chunk in chunks:
            probe.produce(prod, isolated_env["EVENTS_TOPIC"], chunk)
            time.sleep(0.4)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    deadline = time.monotonic() + 60
    while sum(probe.ledger_positions(isolated_env).values()) < len(msgs) // 5:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    proc_a = services.procs["a"]
    services.kill("a", signal.SIGTERM)  # finishes its batch, leaves the group
    assert proc_a.returncode == 0
    assert sum(probe.ledger_positions(isolated_env).values()) < len(msgs), "not mid-stream"
    time.sleep(2)
    start("c")  # and another rebalance while the stream goes on
    feeder.join(timeout=120)
    probe.wait_caught_up(isolated_env)

    actual = totals_from_fields(probe.summed_fields(isolated_env))
    assert actual.totals == expected.totals
    assert actual.counts == expected.counts
    assert_reconciled(isolated_env)
