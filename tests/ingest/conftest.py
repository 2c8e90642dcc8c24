"""Fixtures for ingest tests: banks registered through the real `settlementctl`, a real
`python -m settlement_ingest` process, and a real consumer to read the topic back."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition

from tests.conftest import ServiceRunner, free_port
from tests.support.ctl import printed
from tests.support.ctl import settlementctl_ok as settlementctl
from tests.support.kafka import kafka_config

SAMPLES = Path(__file__).with_name("samples")


@dataclass
class Bank:
    bank_id: str
    key: str
    hmac_secret: str | None = None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclass
class IngestService:
    url: str
    env: dict[str, str]
    banks: dict[str, Bank] = field(default_factory=dict)

    def add_bank(self, bank_id: str, *extra: str) -> Bank:
        out = settlementctl(self.env, "bank", "add", bank_id, "--name", f"Bank {bank_id}", *extra)
        secret = printed(out, "hmac_secret") if "--hmac" in extra else None
        bank = Bank(bank_id, printed(out, "api_key"), secret)
        self.banks[bank_id] = bank
        return bank

    def client(self, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)


def start_ingest(
    env: dict[str, str], services: ServiceRunner, extra_env: dict[str, str] | None = None
) -> IngestService:
    port = free_port()
    services.start("ingest", "settlement_ingest", port=port, extra_env={"INGEST_PORT": str(port), **(extra_env or {})})
    return IngestService(f"http://127.0.0.1:{port}", env)


def event(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": f"ev-{uuid.uuid4().hex[:16]}",
        "category": "cross_border_rmb",
        "amount": "1250.50",
        "currency": "CNY",
        "value_date": "2026-11-02",
        "direction": "outbound",
        "counterparty_country": "SG",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def read_topic(
    env: dict[str, str], topic: str | None = None, timeout_s: float = 30.0
) -> list[tuple[bytes | None, bytes]]:
    """Every record of the topic, read from the beginning to the end offsets."""
    topic = topic or env["EVENTS_TOPIC"]
    consumer = KafkaConsumer(
        **kafka_config(env),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=1000,
    )
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        assert partitions, f"topic {topic} has no partitions"
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        records: list[tuple[bytes | None, bytes]] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            assert time.monotonic() < deadline, "topic not read to its end in time"
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend((r.key, r.value) for r in batch)
        return records
    finally:
        consumer.close()


@pytest.fixture(scope="module")
def ingest(isolated_env: dict[str, str], services: ServiceRunner) -> IngestService:
    return start_ingest(isolated_env, services)
