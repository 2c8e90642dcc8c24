"""The reverse of a Redis failover: PostgreSQL loses its last commits (an asynchronous
standby promoted), so the Redis fence is ahead of the ledger and Kafka re-delivers those
records. The ledger records them again; the fenced apply skips what Redis already holds:
no error, nothing applied twice."""

from __future__ import annotations

import signal

import pytest
from sqlalchemy import create_engine, text

from tests.aggregate import probe
from tests.aggregate.test_aggregate_semantics import event
from tests.support.services import ServiceRunner

pytestmark = pytest.mark.integration

LOST = 60  # the last commits of the partition that the "promoted standby" never got


def test_fence_ahead_of_the_ledger_skips_and_never_double_applies(
    isolated_env: dict[str, str], services: ServiceRunner
) -> None:
    prod = probe.producer(isolated_env)
    probe.produce(prod, isolated_env["EVENTS_TOPIC"], [event(f"fa{n}", f"{n}.25", bank="bankFA") for n in range(300)])
    services.serve("aggregate", "settlement_aggregate")
    probe.wait_caught_up(isolated_env)
    before = probe.summed_fields(isolated_env)
    ends = probe.end_offsets(isolated_env)
    [partition] = [p for p, end in ends.items() if end > 0]
    services.kill("aggregate", signal.SIGTERM)

    cut = ends[partition] - LOST
    engine = create_engine(isolated_env["DATABASE_URL"])
    with engine.begin() as conn:
        args = {"p": partition, "o": cut}
        conn.execute(text("DELETE FROM ledger_effects WHERE kafka_partition = :p AND kafka_offset >= :o"), args)
        lost = conn.execute(
            text("DELETE FROM ledger_events WHERE kafka_partition = :p AND kafka_offset >= :o"), args
        ).rowcount
        conn.execute(
            text("UPDATE consumer_offsets SET next_offset = :o WHERE group_id = :g AND topic = :t AND partition = :p"),
            {**args, "g": isolated_env["CONSUMER_GROUP"], "t": isolated_env["EVENTS_TOPIC"]},
        )
    engine.dispose()
    assert lost == LOST
    assert probe.fences(isolated_env, [partition])[partition] == ends[partition] - 1  # Redis ahead

    services.serve("aggregate", "settlement_aggregate")
    probe.wait_caught_up(isolated_env)
    assert probe.scalar(isolated_env, "SELECT count(*) FROM ledger_events") == 300
    assert probe.summed_fields(isolated_env) == before  # re-recorded, not re-applied
    result = probe.settlementctl(isolated_env, "reconcile", "--max-lag", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    log = (services.logdir / "aggregate.log").read_text()
    assert '"level": "ERROR", "logger": "settlement_aggregate' not in log
    assert services.procs["aggregate"].poll() is None
