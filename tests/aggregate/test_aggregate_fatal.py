"""A non-retriable Kafka error ends the aggregator with a non-zero exit instead of backing
off forever with /readyz down (issue 10, retryable vs fatal).

The error comes from the real adapter path: a 1.5 MB poison record (the events topic of
this test accepts it) must go to the DLQ, whose producer refuses a record larger than its
max_request_size with kafka-python's MessageSizeTooLargeError (retriable = False).
"""

from __future__ import annotations

import subprocess

import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from tests.aggregate import probe
from tests.support.kafka import kafka_config
from tests.support.services import ServiceRunner

pytestmark = pytest.mark.integration

RECORD_BYTES = 1_500_000


def test_non_retriable_kafka_error_exits_non_zero(isolated_env: dict[str, str], services: ServiceRunner) -> None:
    topic = isolated_env["EVENTS_TOPIC"] + ".big"
    admin = KafkaAdminClient(**kafka_config(isolated_env))
    try:
        admin.create_topics(
            [NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": str(4 * 1024 * 1024)})], timeout_ms=30_000
        )
    finally:
        admin.close()
    producer = KafkaProducer(**kafka_config(isolated_env), acks="all", max_request_size=4 * 1024 * 1024)
    producer.send(topic, key=b"B1", value=b"x" * RECORD_BYTES).get(timeout=30)
    producer.close()

    proc = services.serve(
        "aggregate",
        "settlement_aggregate",
        {"EVENTS_TOPIC": topic, "AGGREGATE_BACKOFF_MAX_S": "1"},
        wait=False,  # it may well be gone before /healthz is polled
    ).proc
    try:
        rc = proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("the aggregator kept running (backing off?) after a non-retriable Kafka error")
    assert rc != 0
    log = (services.logdir / "aggregate.log").read_text()
    assert "MessageSizeTooLargeError" in log
    assert "retryable failure, backing off" not in log
    # Nothing was recorded: the DLQ produce happens before the ledger commit.
    assert probe.scalar(isolated_env, "SELECT count(*) FROM dlq_events") == 0
