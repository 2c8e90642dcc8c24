"""Kafka's own perf tools as the anchors (same broker, same topic settings, same record
size, acks=all), and the pre-fill of a topic with real encoded events for the aggregator.
"""

from __future__ import annotations

import os
import random
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Generic, TypeVar

from kafka import KafkaProducer

from bench.tool_output import (
    ConsumerPerfSummary,
    ProducerPerfSummary,
    parse_consumer_performance,
    parse_producer_performance,
)
from settlement_core.categories import Direction
from settlement_core.events import Envelope, SettlementEvent, encode
from settlement_core.kafka_io import PRODUCER_BATCH_BYTES, KafkaAccess, client_config, java_client_properties

# Our EventProducer's settings (settlement_core/kafka_io.py), so the anchor pays for the
# same guarantees and gets the same batching: acks=all, idempotence, a 2 ms linger, our
# batch size and no compression.
PRODUCER_PROPS = (
    "acks=all",
    "enable.idempotence=true",
    "linger.ms=2",
    f"batch.size={PRODUCER_BATCH_BYTES}",
    "compression.type=none",
)
T = TypeVar("T")
CURRENCY_OF = {"offshore": "USD"}
# The six codes of seeds/targets.yaml (the catalogue the bench stack runs with).
PLAN_CODES = (
    "cross_border_rmb",
    "cross_border_ecommerce",
    "mnc_headquarters",
    "offshore",
    "factor_market",
    "corporate_account",
)
COUNTRIES = ("SG", "HK", "US", "DE", "GB", "JP", "KR", "VN", "TH", "MY")


def kafka_libs() -> Path:
    version = os.environ.get("KAFKA_VERSION", "4.3.1")
    default = Path.home() / ".cache" / "settlement-tracker" / f"kafka-{version}" / "libs"
    return Path(os.environ.get("KAFKA_LIBS", default))


def synthetic_event(rng: random.Random, bank_id: str, event_id: str) -> SettlementEvent:
    category = PLAN_CODES[rng.randrange(len(PLAN_CODES))]
    currency = CURRENCY_OF.get(category, "CNY")
    return SettlementEvent(
        bank_id=bank_id,
        event_id=event_id,
        categories=(category,),
        amount=Decimal(rng.randrange(100, 1_000_000_000)).scaleb(-2),
        currency=currency,
        value_date=date(2020, 1, 1) + timedelta(days=rng.randrange(366)),
        direction=Direction.INBOUND if rng.random() < 0.5 else Direction.OUTBOUND,
        counterparty_country=COUNTRIES[rng.randrange(len(COUNTRIES))],
    )


def record_size() -> int:
    """Bytes of one typical encoded event as it travels on the topic."""
    rng = random.Random(1)
    sizes = [
        len(encode(Envelope(synthetic_event(rng, "bench-bank-007", f"bench-{i:012d}"), datetime.now(UTC))))
        for i in range(200)
    ]
    return round(sum(sizes) / len(sizes))


@dataclass(frozen=True, slots=True)
class ToolRun(Generic[T]):
    summary: T
    cpu_seconds: float
    wall_seconds: float


def _java(main: str, args: list[str], timeout: float) -> tuple[str, float, float]:
    before = os.times()
    started = time.monotonic()
    proc = subprocess.run(
        ["java", "-Xms256m", "-Xmx512m", "-cp", f"{kafka_libs()}/*", main, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    wall = time.monotonic() - started
    after = os.times()
    if proc.returncode != 0:
        raise RuntimeError(f"{main} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return proc.stdout + "\n" + proc.stderr, cpu, wall


@contextmanager
def command_config(access: KafkaAccess) -> Iterator[str]:
    """A 0600 properties file with the connection and SASL settings (`--command-config`):
    a password on the command line would be readable by every local user in /proc."""
    with tempfile.NamedTemporaryFile("w", prefix="bench-kafka-", suffix=".properties") as f:
        os.chmod(f.name, 0o600)
        for key, value in java_client_properties(access).items():
            f.write(f"{key}={value}\n")
        f.flush()
        yield f.name


def producer_performance(
    access: KafkaAccess, topic: str, records: int, size: int, timeout: float = 600
) -> ToolRun[ProducerPerfSummary]:
    with command_config(access) as config:
        out, cpu, wall = _java(
            "org.apache.kafka.tools.ProducerPerformance",
            [
                "--bootstrap-server",
                access.bootstrap,
                "--command-config",
                config,
                "--topic",
                topic,
                "--num-records",
                str(records),
                "--record-size",
                str(size),
                "--throughput",
                "-1",
                "--command-property",
                *PRODUCER_PROPS,
            ],
            timeout,
        )
    return ToolRun(parse_producer_performance(out), cpu, wall)


def consumer_performance(
    access: KafkaAccess, topic: str, records: int, group: str, timeout: float = 600
) -> ToolRun[ConsumerPerfSummary]:
    with command_config(access) as config:
        out, cpu, wall = _java(
            "org.apache.kafka.tools.ConsumerPerformance",
            [
                "--bootstrap-server",
                access.bootstrap,
                "--command-config",
                config,
                "--topic",
                topic,
                "--num-records",
                str(records),
                "--group",
                group,
                "--timeout",
                "30000",
                "--command-property",
                "auto.offset.reset=earliest",
            ],
            timeout,
        )
    return ToolRun(parse_consumer_performance(out), cpu, wall)


def prefill(access: KafkaAccess, topic: str, events: int, banks: list[str], seed: int = 6) -> float:
    """Write `events` distinct valid events (encoded exactly as ingest does, keyed by bank)
    to `topic`; returns the seconds it took."""
    rng = random.Random(seed)
    producer = KafkaProducer(
        **client_config(access),
        acks="all",
        linger_ms=50,
        batch_size=256 * 1024,
        max_in_flight_requests_per_connection=5,
    )
    started = time.monotonic()
    received = datetime.now(UTC)
    for n in range(events):
        bank = banks[n % len(banks)]
        envelope = Envelope(synthetic_event(rng, bank, f"pre-{n:010d}"), received)
        producer.send(topic, key=bank.encode(), value=encode(envelope))
    producer.flush(timeout=600)
    producer.close()
    return time.monotonic() - started
