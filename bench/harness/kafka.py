"""The harness's Kafka: the `bench` principal's access, waiting for a shared broker, topic
clean-up and the end offsets of a topic."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from kafka import KafkaConsumer
from kafka.structs import TopicPartition
from tests.support.stack import read_env_file

from bench.config import ROOT
from settlement_core.kafka_io import KafkaAccess, admin_client, client_config
from settlement_core.settings import CoreSettings

# The events topic's partitions as deployed (`settlementctl init` creates it with this many):
# every benchmark topic has them, so partitioning and parallelism match the product.
EVENTS_PARTITIONS: int = CoreSettings.model_fields["events_partitions"].default


def bench_access(base: dict[str, str]) -> KafkaAccess:
    """The `bench` principal, for the peers and Kafka's perf tools: it may touch only
    topics, groups and transactional ids named `bench.*` (settlement_ctl/kafka_acls.py).
    The harness itself (topics, namespaces, our services) runs as the stack's `admin`."""
    access = KafkaAccess.from_env(base)
    if not access.uses_sasl:
        return access
    secrets = Path(base.get("STACK_DIR", ROOT / ".stack")) / "secrets.env"
    password = read_env_file(secrets).get("KAFKA_BENCH_PASSWORD") if secrets.exists() else None
    password = os.environ.get("KAFKA_BENCH_PASSWORD", password)
    if not password:
        raise SystemExit(f"bench: no KAFKA_BENCH_PASSWORD in the environment or {secrets}")
    return access.as_principal("bench", password)


def wait_for_kafka(access: KafkaAccess, timeout: float = 180.0) -> None:
    """The broker is shared: another engineer's fault-injection test may have it stopped
    for a while. Wait for it rather than fail a stage of a 45-minute run."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            admin_client(access, client_id="bench-probe", request_timeout_ms=5000).close()
            return
        except Exception:  # kafka-python raises several unrelated types here
            if time.monotonic() > deadline:
                raise
            print("bench: waiting for the Kafka broker", file=sys.stderr)
            time.sleep(3)


def delete_topics(access: KafkaAccess, topics: list[str]) -> None:
    if not topics:
        return
    try:
        admin = admin_client(access, client_id="bench-admin")
        try:
            existing = set(admin.list_topics())
            doomed = [t for t in topics if t in existing]
            if doomed:
                admin.delete_topics(doomed, timeout_ms=30_000)
        finally:
            admin.close()
    except Exception as exc:  # cleanup must not hide the result
        print(f"bench: could not delete topics {topics}: {exc}", file=sys.stderr)


class EndOffsets:
    """A topic's end offsets summed, over one consumer kept as long as it is needed (a new
    connection per sample costs seconds on a loaded machine)."""

    def __init__(self, access: KafkaAccess, topic: str) -> None:
        self.consumer = KafkaConsumer(**client_config(access), group_id=None)
        self.partitions = [TopicPartition(topic, p) for p in self.consumer.partitions_for_topic(topic) or ()]

    def total(self) -> int:
        return sum(int(v) for v in self.consumer.end_offsets(self.partitions).values())

    def close(self) -> None:
        self.consumer.close()
