"""One aggregator process on a fresh namespace: DLQ, duplicates, reversals (including one
that arrives before its original), health and metrics endpoints."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from settlement_core.categories import Direction
from settlement_core.events import Envelope, SettlementEvent, encode
from tests.aggregate import probe
from tests.aggregate.streams import Msg
from tests.support.kafka import kafka_config
from tests.support.ledger_checks import assert_reconciled
from tests.support.services import Served, ServiceRunner

pytestmark = pytest.mark.integration


def event(
    event_id: str,
    amount: str,
    *,
    bank: str = "bankA",
    currency: str = "CNY",
    reverses: str | None = None,
    category: str = "cross_border_rmb",
    day: date = date(2020, 3, 1),
) -> Msg:
    ev = SettlementEvent(
        bank_id=bank,
        event_id=event_id,
        categories=(category,),
        amount=Decimal(amount),
        currency=currency,
        value_date=day,
        direction=Direction.INBOUND,
        counterparty_country="US",
        reverses=reverses,
    )
    return Msg(bank.encode(), encode(Envelope(ev, datetime.now(UTC))), "test")


@pytest.fixture(scope="module")
def aggregator(isolated_env: dict[str, str], services: ServiceRunner) -> Served:
    return services.serve("aggregate", "settlement_aggregate")


def day_total(env: dict[str, str], field: str) -> int:
    return probe.summed_fields(env).get(field, 0)


def metric_values(service: Served) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{service.url}/metrics", timeout=5).text
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_poison_message_goes_to_dlq_and_the_next_valid_event_counts(
    isolated_env: dict[str, str], aggregator: Served
) -> None:
    prod = probe.producer(isolated_env)
    poison = b'{"v": 1, "bank_id": "bankP", "event_id": "p1"'  # truncated JSON
    probe.produce(
        prod,
        isolated_env["EVENTS_TOPIC"],
        [
            event("p0", "10.00", bank="bankP"),
            Msg(b"bankP", poison, "poison"),
            event("p2", "5.50", bank="bankP"),
        ],
    )
    probe.wait_caught_up(isolated_env)
    assert day_total(isolated_env, "c|cross_border_rmb|CNY|d|2020-03-01") == 1550

    dlq = KafkaConsumer(**kafka_config(isolated_env), auto_offset_reset="earliest")
    dlq.assign([TopicPartition(isolated_env["DLQ_TOPIC"], 0)])
    found: list[ConsumerRecord] = []
    deadline = time.monotonic() + 20
    while not found and time.monotonic() < deadline:
        for batch in dlq.poll(timeout_ms=500).values():
            found += [m for m in batch if m.value == poison]
    dlq.close()
    assert len(found) == 1
    headers = {k: v.decode() for k, v in found[0].headers}
    assert headers["dlq.reason"] == "undecodable"
    assert headers["source.topic"] == isolated_env["EVENTS_TOPIC"]
    source = (int(headers["source.partition"]), int(headers["source.offset"]))
    assert (
        probe.scalar(
            isolated_env,
            "SELECT count(*) FROM dlq_events WHERE "
            f"kafka_partition = {source[0]} AND kafka_offset = {source[1]} "
            "AND reason = 'undecodable'",
        )
        == 1
    )
    assert metric_values(aggregator)[("aggregate_dlq_total", (("reason", "undecodable"),))] >= 1


def test_duplicates_count_once_and_conflicts_go_to_the_dlq(isolated_env: dict[str, str], aggregator: Served) -> None:
    day = date(2020, 4, 2)
    probe.produce(
        probe.producer(isolated_env),
        isolated_env["EVENTS_TOPIC"],
        [
            event("d1", "100.00", bank="bankD", day=day),
            event("d1", "100.00", bank="bankD", day=day),  # identical retry
            event("d1", "999.00", bank="bankD", day=day),  # same id, different body
        ],
    )
    probe.wait_caught_up(isolated_env)
    assert day_total(isolated_env, "c|cross_border_rmb|CNY|d|2020-04-02") == 10000
    assert (
        probe.scalar(
            isolated_env, "SELECT count(*) FROM dlq_events WHERE event_id = 'd1' AND reason = 'conflicting_duplicate'"
        )
        == 1
    )
    values = metric_values(aggregator)
    assert values[("aggregate_duplicates_total", ())] >= 1


def test_reversals_before_after_mismatched_and_twice(isolated_env: dict[str, str], aggregator: Served) -> None:
    day = date(2020, 5, 3)
    bank = "bankR"
    probe.produce(
        probe.producer(isolated_env),
        isolated_env["EVENTS_TOPIC"],
        [
            # reversal before its original: waits, then both effects apply
            event("r-early", "40.00", bank=bank, day=day, reverses="o-late"),
            event("o-late", "40.00", bank=bank, day=day),
            # reversal after its original, then a second reversal of the same original
            event("o2", "7.00", bank=bank, day=day),
            event("r2", "7.00", bank=bank, day=day, reverses="o2"),
            event("r2b", "7.00", bank=bank, day=day, reverses="o2"),
            # mismatched amount: not counted
            event("o3", "3.00", bank=bank, day=day),
            event("r3", "3.01", bank=bank, day=day, reverses="o3"),
            # mismatched pending reversal: rejected when the original arrives
            event("r4", "9.00", bank=bank, day=day, reverses="o4", currency="USD"),
            event("o4", "9.00", bank=bank, day=day),
        ],
    )
    probe.wait_caught_up(isolated_env)
    # o-late and o2 reversed; o3 and o4 stay counted.
    assert day_total(isolated_env, "c|cross_border_rmb|CNY|d|2020-05-03") == 300 + 900
    statuses = {}
    engine_rows = probe.scalar(
        isolated_env, "SELECT count(*) FROM ledger_events WHERE bank_id = 'bankR' AND status = 'reversal_applied'"
    )
    statuses["applied"] = engine_rows
    assert statuses["applied"] == 2
    reasons = {
        r: probe.scalar(isolated_env, f"SELECT count(*) FROM dlq_events WHERE bank_id = 'bankR' AND reason = '{r}'")
        for r in ("already_reversed", "reversal_mismatch")
    }
    assert reasons == {"already_reversed": 1, "reversal_mismatch": 2}
    assert (
        probe.scalar(
            isolated_env, "SELECT count(*) FROM ledger_events WHERE event_id = 'r4' AND status = 'reversal_rejected'"
        )
        == 1
    )
    values = metric_values(aggregator)
    assert values[("aggregate_reversals_total", (("outcome", "pending"),))] >= 2
    assert values[("aggregate_reversals_total", (("outcome", "applied"),))] >= 2


def test_health_readiness_and_metric_names(isolated_env: dict[str, str], aggregator: Served) -> None:
    base = aggregator.url
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    ready = httpx.get(f"{base}/readyz", timeout=5)
    assert ready.status_code == 200, ready.text
    assert json.loads(ready.text)["ready"] is True
    names = {name for name, _ in metric_values(aggregator)}
    for expected in (
        "aggregate_events_applied_total",
        "aggregate_duplicates_total",
        "aggregate_reversals_total",
        "aggregate_dlq_total",
        "aggregate_batch_apply_seconds_bucket",
        "aggregate_consumer_lag",
        "aggregate_last_applied_timestamp_seconds",
        "aggregate_last_event_received_timestamp_seconds",
        "aggregate_ready",
    ):
        assert expected in names, expected
    values = metric_values(aggregator)
    assert values[("aggregate_ready", ())] == 1
    lags = [v for (name, _), v in values.items() if name == "aggregate_consumer_lag"]
    assert lags
    assert all(v == 0 for v in lags)
    assert_reconciled(isolated_env, max_lag=None)
