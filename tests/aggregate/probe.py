"""Drive and observe the real pipeline: produce to Kafka, wait for the aggregator, read
Redis and PostgreSQL, run settlementctl. Only real services; nothing is faked."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import redis
from kafka import KafkaConsumer, KafkaProducer
from kafka.structs import TopicPartition
from sqlalchemy import create_engine, text

from settlement_core.buckets import PARTITIONS_KEY, fence_key, totals_key
from tests.aggregate.streams import Msg
from tests.support.banks import bank_ids_of, register_banks
from tests.support.ctl import settlementctl as settlementctl  # re-exported: probe.settlementctl
from tests.support.kafka import kafka_config


@dataclass(frozen=True, slots=True)
class Producer:
    """A batching producer (50k events in a few seconds; idempotence keeps per-key order)
    and the test's ledger database, where `produce` registers the banks it writes for."""

    kafka: KafkaProducer
    database_url: str


def producer(env: dict[str, str]) -> Producer:
    kafka = KafkaProducer(
        **kafka_config(env),
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        batch_size=512 * 1024,
        max_block_ms=60_000,
    )
    return Producer(kafka, env["DATABASE_URL"])


def produce(prod: Producer, topic: str, msgs: Iterable[Msg]) -> None:
    """Register the banks the messages name (the aggregator dead-letters events of a bank
    that was never registered), then send and flush."""
    msgs = list(msgs)
    register_banks(prod.database_url, bank_ids_of(m.value for m in msgs))
    for m in msgs:
        prod.kafka.send(topic, key=m.key, value=m.value)
    prod.kafka.flush(timeout=120)


def end_offsets(env: dict[str, str]) -> dict[int, int]:
    consumer = KafkaConsumer(**kafka_config(env))
    try:
        topic = env["EVENTS_TOPIC"]
        parts = consumer.partitions_for_topic(topic) or set()
        ends = consumer.end_offsets([TopicPartition(topic, p) for p in parts])
        return {tp.partition: int(o) for tp, o in ends.items()}
    finally:
        consumer.close()


def redis_client(env: dict[str, str]) -> redis.Redis:
    return redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)


def ledger_positions(env: dict[str, str]) -> dict[int, int]:
    engine = create_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT partition, next_offset FROM consumer_offsets WHERE group_id = :g AND topic = :t"),
                {"g": env["CONSUMER_GROUP"], "t": env["EVENTS_TOPIC"]},
            ).all()
        return {int(p): int(o) for p, o in rows}
    finally:
        engine.dispose()


def fences(env: dict[str, str], partitions: Iterable[int]) -> dict[int, int]:
    client = redis_client(env)
    out = {}
    for p in partitions:
        value = client.get(fence_key(p))
        out[p] = -1 if value is None else int(value)
    return out


def caught_up(env: dict[str, str], ends: dict[int, int]) -> bool:
    positions = ledger_positions(env)
    if any(positions.get(p, 0) != end for p, end in ends.items()):
        return False
    return all(f == ends[p] - 1 for p, f in fences(env, ends).items())


def wait_caught_up(env: dict[str, str], timeout: float = 120.0) -> None:
    """Until the ledger has every produced offset and every Redis fence has reached it."""
    ends = end_offsets(env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if caught_up(env, ends):
            return
        time.sleep(0.25)
    raise AssertionError(
        f"not caught up after {timeout}s: ends={ends} ledger={ledger_positions(env)} fences={fences(env, ends)}"
    )


def summed_fields(env: dict[str, str]) -> dict[str, int]:
    """What readers see: each field summed across the partitions in stl:partitions."""
    client = redis_client(env)
    total: dict[str, int] = defaultdict(int)
    for member in client.smembers(PARTITIONS_KEY):
        for name, value in client.hgetall(totals_key(int(member))).items():
            # decode_responses=True: names are str; redis-py types them bytes | str.
            total[name if isinstance(name, str) else name.decode()] += int(value)
    return dict(total)


def scalar(env: dict[str, str], sql: str) -> int:
    engine = create_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()
