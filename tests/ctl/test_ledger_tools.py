"""`settlementctl rebuild | reconcile | replay` against a real aggregator, Kafka, Redis and
PostgreSQL, plus the documented help text."""

from __future__ import annotations

import time
from typing import cast

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from settlement_ctl.main import build_parser
from tests.aggregate import probe
from tests.aggregate.streams import generate, oracle, totals_from_fields
from tests.conftest import ServiceRunner, free_port
from tests.support.ledger_checks import assert_reconciled


def duplicates(port: int) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "aggregate_duplicates_total":
                return float(sample.value)
    raise AssertionError("aggregate_duplicates_total missing")


def test_replay_help_says_exactly_what_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["replay", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for phrase in (
        "--from",
        "consumer_offsets.next_offset",
        "only ever moves offsets backwards",
        "duplicates",
        "settlementctl rebuild",
        "--dry-run",
    ):
        assert phrase in text, phrase


@pytest.mark.integration
def test_reconcile_rebuild_and_replay(isolated_env: dict[str, str], services: ServiceRunner) -> None:
    msgs = generate(5, originals=1500, tag="t")
    expected = oracle(msgs)
    port = free_port()
    services.start("aggregate", "settlement_aggregate", port, extra_env={"AGGREGATE_PORT": str(port)})
    probe.produce(probe.producer(isolated_env), isolated_env["EVENTS_TOPIC"], msgs)
    probe.wait_caught_up(isolated_env)
    assert totals_from_fields(probe.summed_fields(isolated_env)).totals == expected.totals

    assert_reconciled(isolated_env)

    # Corrupt one day bucket: reconcile names the target, day and currency and fails.
    client = probe.redis_client(isolated_env)
    partition = int(sorted(client.smembers("stl:partitions"))[0])
    key = f"stl:{{stl:p{partition}}}:t"
    fields = cast(list[str], client.hkeys(key))  # the probe's client decodes responses
    field = next(f for f in fields if f.startswith("c|") and "|d|" in f)
    client.hincrby(key, field, 7)
    _, category, currency, _, day = field.split("|")
    drift = probe.settlementctl(isolated_env, "reconcile")
    assert drift.returncode == 1, drift.stdout + drift.stderr
    assert f"DRIFT partition={partition} target={category} day={day} currency={currency}" in drift.stdout
    assert "diff=+7" in drift.stdout

    rebuilt = probe.settlementctl(isolated_env, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert_reconciled(isolated_env)
    assert totals_from_fields(probe.summed_fields(isolated_env)).totals == expected.totals

    # Replay from the beginning while the aggregator runs: everything is re-read, nothing
    # is counted twice.
    before = probe.ledger_positions(isolated_env)
    dup_before = duplicates(port)
    ledger_rows = probe.scalar(isolated_env, "SELECT count(*) FROM ledger_events")
    dry = probe.settlementctl(isolated_env, "replay", "--from", "2000-01-01", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert probe.ledger_positions(isolated_env) == before
    replay = probe.settlementctl(isolated_env, "replay", "--from", "2000-01-01")
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "-> 0" in replay.stdout
    deadline = time.monotonic() + 60
    while duplicates(port) < dup_before + ledger_rows or (probe.ledger_positions(isolated_env) != before):
        assert time.monotonic() < deadline, "the aggregator did not re-read the topic"
        time.sleep(0.2)
    probe.wait_caught_up(isolated_env)
    rebuilt = probe.settlementctl(isolated_env, "rebuild")
    assert rebuilt.returncode == 0
    assert totals_from_fields(probe.summed_fields(isolated_env)).totals == expected.totals
    assert_reconciled(isolated_env)
