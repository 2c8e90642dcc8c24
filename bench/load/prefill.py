"""A topic pre-filled with real encoded events (as ingest encodes them, keyed by bank), for
the aggregator stage, the aggregation peer and the aggregator profile; and the size of one
such record, which ProducerPerformance sends."""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from kafka import KafkaProducer

from bench.config import Log
from bench.harness.kafka import EVENTS_PARTITIONS, bench_access, delete_topics
from bench.harness.namespace import Namespace
from bench.load.catalogue import CATEGORY_CODES
from settlement_core.categories import Direction
from settlement_core.events import Envelope, SettlementEvent, encode
from settlement_core.kafka_io import KafkaAccess, client_config, ensure_topics

PREFILL_BANKS = [f"agg-bank-{i:03d}" for i in range(50)]
CURRENCY_OF = {"offshore": "USD"}
COUNTRIES = ("SG", "HK", "US", "DE", "GB", "JP", "KR", "VN", "TH", "MY")


def synthetic_event(rng: random.Random, bank_id: str, event_id: str) -> SettlementEvent:
    category = CATEGORY_CODES[rng.randrange(len(CATEGORY_CODES))]
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


class PrefilledTopic:
    """A topic with N real encoded events, shared by the aggregator repetitions, the
    ConsumerPerformance anchor and the aggregator profile; deleted at the end of the run."""

    def __init__(self, base: dict[str, str], events: int, log: Log) -> None:
        self.admin = KafkaAccess.from_env(base)  # the harness: creates and deletes topics
        self.bench = bench_access(base)  # the anchors and peers
        self.bootstrap = self.admin.bootstrap
        self.topic = f"bench.prefill-{uuid.uuid4().hex[:8]}.events"
        self.events = events
        ensure_topics(self.admin, {self.topic: EVENTS_PARTITIONS})
        log(f"  pre-filling {self.topic} with {events:,} events")
        self.seconds = prefill(self.bench, self.topic, events, PREFILL_BANKS)
        log(f"  pre-filled in {self.seconds:.1f} s")

    def environment(self, ns: Namespace) -> dict[str, str]:
        """`ns`'s environment pointed at this topic, with the topic's banks registered in it:
        without them the aggregator would dead-letter every event as unknown_bank and the
        stage would time the DLQ path, not the ledger (as it did from commit 97c069c on)."""
        ns.register_banks(PREFILL_BANKS)
        return ns.with_topic(self.topic)

    def delete(self) -> None:
        delete_topics(self.admin, [self.topic])
