"""The intake as tests use it: banks registered through the real `settlementctl`, an ingest
service to post to (a process, or the app in this process), events, and the topic read back
by a real consumer."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from kafka import KafkaConsumer, TopicPartition

from tests.support.ctl import printed, settlementctl_ok
from tests.support.kafka import kafka_config
from tests.support.services import ServiceRunner
from tests.support.stack import ROOT

SAMPLES = ROOT / "tests" / "ingest" / "samples"  # JSON and ISO 20022 bodies


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
    """An ingest to post to, and the namespace (env) it writes to.

    Over TCP to a `python -m settlement_ingest` process when transport is None; otherwise
    through the transport to the app in this process (tests/support/asgi.py)."""

    url: str
    env: dict[str, str]
    transport: httpx.BaseTransport | None = None
    banks: dict[str, Bank] = field(default_factory=dict)

    def add_bank(self, bank_id: str, *extra: str) -> Bank:
        out = settlementctl_ok(self.env, "bank", "add", bank_id, "--name", f"Bank {bank_id}", *extra)
        secret = printed(out, "hmac_secret") if "--hmac" in extra else None
        bank = Bank(bank_id, printed(out, "api_key"), secret)
        self.banks[bank_id] = bank
        return bank

    def client(self, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout, transport=self.transport)


def post_concurrently(
    service: IngestService, path: str, bodies: Sequence[object], headers: dict[str, str]
) -> list[httpx.Response]:
    """Posts every body at once, one thread each, released together by a barrier: over TCP
    each on a connection of its own, in process each a concurrent task on the app's loop."""
    start = threading.Barrier(len(bodies))

    def post(client: httpx.Client, body: object) -> httpx.Response:
        start.wait(timeout=30)
        return client.post(path, json=body, headers=headers)

    limits = httpx.Limits(max_connections=len(bodies))
    with (
        httpx.Client(base_url=service.url, timeout=30.0, limits=limits, transport=service.transport) as client,
        ThreadPoolExecutor(max_workers=len(bodies)) as pool,
    ):
        return list(pool.map(lambda body: post(client, body), bodies))


def start_ingest(
    env: dict[str, str], services: ServiceRunner, extra_env: dict[str, str] | None = None
) -> IngestService:
    """A real `python -m settlement_ingest` process, for what needs one: workers, signals,
    the HTTP server itself (tests/ingest/conftest.py has the in-process app)."""
    served = services.serve("ingest", "settlement_ingest", extra_env)
    return IngestService(served.url, env)


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
