"""Fixtures for ingest tests: banks registered through the real `settlementctl`, a real
`python -m settlement_ingest` process, and a real consumer to read the topic back."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition

SAMPLES = Path(__file__).with_name("samples")
SETTLEMENTCTL = Path(sys.executable).with_name("settlementctl")


def settlementctl(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(SETTLEMENTCTL), *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"settlementctl {args} failed: {done.stderr}"
    return done.stdout


def printed(output: str, label: str) -> str:
    match = re.search(rf"^{label}: (\S+)$", output, re.MULTILINE)
    assert match, f"no {label} in {output!r}"
    return match.group(1)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        out = settlementctl(self.env, "bank", "add", bank_id, "--name", f"Bank {bank_id}",
                            *extra)
        secret = printed(out, "hmac_secret") if "--hmac" in extra else None
        bank = Bank(bank_id, printed(out, "api_key"), secret)
        self.banks[bank_id] = bank
        return bank

    def client(self, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)


def start_ingest(env: dict[str, str], services: Any,
                 extra_env: dict[str, str] | None = None) -> IngestService:
    port = free_port()
    services.start("ingest", "settlement_ingest", port=port,
                   extra_env={"INGEST_PORT": str(port), **(extra_env or {})})
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


def read_topic(env: dict[str, str], topic: str | None = None,
               timeout_s: float = 30.0) -> list[tuple[bytes | None, bytes]]:
    """Every record of the topic, read from the beginning to the end offsets."""
    topic = topic or env["EVENTS_TOPIC"]
    consumer = KafkaConsumer(bootstrap_servers=env["KAFKA_BOOTSTRAP"].split(","),
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             consumer_timeout_ms=1000)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(
            topic) or [])]
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


def isolated_env_fitting_redis() -> Iterator[dict[str, str]]:
    """tests/conftest.py `isolated_env`, but with a Redis db number the running server has.

    The shared counter hands out db numbers up to 255 (stack.sh now configures
    `databases 256`), while a Redis started from an older config has only 16, where
    `SELECT 27` fails. Until that server is restarted, wrap into its range (skipping db 0).
    """
    import redis

    from settlement_core.db.engine import upgrade
    from settlement_core.kafka_io import ensure_topics
    from tests.conftest import _create_database, stack_env

    base = stack_env()
    tag = uuid.uuid4().hex[:10]
    db_url = _create_database(base["DATABASE_URL"], f"t_{tag}")
    upgrade(db_url)
    counter = redis.Redis.from_url(base["REDIS_URL"])
    databases = int(counter.config_get("databases")["databases"])
    db_number = int(counter.incr("test:redis-db-counter")) % (databases - 1) + 1
    redis_url = base["REDIS_URL"].rsplit("/", 1)[0] + f"/{db_number}"
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **base,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "EVENTS_TOPIC": f"t{tag}.events",
        "DLQ_TOPIC": f"t{tag}.dlq",
        "CONSUMER_GROUP": f"t{tag}.aggregate",
        "EVENTS_PARTITIONS": "6",
    }
    ensure_topics(env["KAFKA_BOOTSTRAP"], {env["EVENTS_TOPIC"]: 6, env["DLQ_TOPIC"]: 1})
    yield env


isolated_env = pytest.fixture(scope="module", name="isolated_env")(isolated_env_fitting_redis)


@pytest.fixture(scope="module")
def ingest(isolated_env: dict[str, str], services: Any) -> IngestService:
    return start_ingest(isolated_env, services)
