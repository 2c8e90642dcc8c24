"""Issue 20, H2 in cluster mode: every one of the three brokers refuses a client without
credentials (before, they listened PLAINTEXT and took anonymous writes), and the admin
principal from the cluster's stack.env gets in (the refusal is authentication, not a dead
cluster)."""

from __future__ import annotations

import logging

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaTimeoutError

from tests.cluster import harness
from tests.support.kafka import kafka_config

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

EVENTS = "settlement.events"


def _end_offsets(env: dict[str, str]) -> dict[int, int]:
    consumer = KafkaConsumer(**kafka_config(env), group_id=None)
    try:
        parts = [TopicPartition(EVENTS, p) for p in consumer.partitions_for_topic(EVENTS) or ()]
        assert parts, f"{EVENTS} missing: settlementctl init runs before the cluster tests"
        return {tp.partition: int(o) for tp, o in consumer.end_offsets(parts).items()}
    finally:
        consumer.close()


def _write_anonymously(broker: str) -> None:
    producer = KafkaProducer(
        bootstrap_servers=[broker], security_protocol="PLAINTEXT", bootstrap_timeout_ms=8000, max_block_ms=8000
    )
    try:
        producer.send(EVENTS, key=b"intruder", value=b"{}").get(timeout=10)
    finally:
        producer.close(timeout=0)


@pytest.mark.parametrize("node", [0, 1, 2])
def test_a_producer_without_credentials_is_refused_by_every_broker(node: int, caplog: pytest.LogCaptureFixture) -> None:
    env = harness.cluster_env()
    broker = env["KAFKA_BOOTSTRAP"].split(",")[node]
    before = _end_offsets(env)
    with caplog.at_level(logging.WARNING, logger="kafka"), pytest.raises(KafkaTimeoutError, match="bootstrap"):
        _write_anonymously(broker)
    assert "socket disconnected" in caplog.text
    assert _end_offsets(env) == before
