"""The documented bulk path for read/growth benchmarks: N events of history written straight
into the ledger and Redis, yielding the state the real pipeline would have produced for
those events, in minutes instead of hours.

What it writes, per event, exactly as the aggregator would for a first-seen, valid event:
  * one `ledger_events` row (status `counted`, a sha256 `body_hash` as 32 bytes, partition =
    kafka-python's murmur2 partitioner of the bank id, offsets consecutive per partition), its
    id taken from the table's own sequence as the aggregator's insert does,
  * one `ledger_effects` row referencing it (an addition: `reversal_row_id` NULL), processed
    when it was applied,
  * the Redis buckets computed by `settlement_core.buckets.increments_for` (the function the
    aggregator uses) and applied with HINCRBY, the per-partition fence set to the last
    offset, `stl:partitions` and the `seen` sets, and `consumer_offsets` = last offset + 1.
Rows go in with COPY; the Redis increments of a whole level are summed in memory first
(addition commutes, so the sums equal applying them batch by batch).
The benchmark checks the claim: after loading 10^6 events it runs `settlementctl rebuild`
(Redis recomputed from the ledger) and compares every Redis field with what this loader
wrote (`HistoryCheck`).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any

import psycopg
import redis
from kafka.partitioner.default import murmur2

from settlement_core.buckets import (
    PARTITIONS_KEY,
    Effect,
    applied_at_key,
    fence_key,
    increments_for,
    seen_key,
    totals_key,
)
from settlement_core.catalogue import load_catalogue
from settlement_core.rules import CountingRules

CHUNK = 50_000
HISTORY_START = date(2016, 1, 1)
HISTORY_DAYS = (date(2020, 12, 31) - HISTORY_START).days + 1
# Currency mix per category, as in the demo feed: realistic enough that the Redis layout
# has the same shape (a few currencies per category).
CURRENCIES: dict[str, tuple[str, ...]] = {
    "cross_border_rmb": ("CNY",),
    "cross_border_ecommerce": ("CNY", "CNY", "USD", "EUR"),
    "mnc_headquarters": ("CNY", "CNY", "CNY", "USD", "HKD"),
    "offshore": ("USD", "USD", "USD", "HKD", "EUR"),
    "factor_market": ("CNY",),
    "corporate_account": ("CNY", "CNY", "CNY", "USD"),
}
COUNTRIES = ("SG", "HK", "US", "DE", "GB", "JP", "KR", "VN", "TH", "MY", "AU", "FR", "NL")
EVENT_COLUMNS = (
    "id, bank_id, event_id, body_hash, categories, amount, currency, value_date, "
    "direction, counterparty_country, status, kafka_partition, kafka_offset, "
    "ingested_at, applied_at"
)
EFFECT_COLUMNS = "kafka_offset, event_row_id, processed_at, kafka_partition, reversal_row_id"


def partition_of(bank_id: str, partitions: int) -> int:
    """kafka-python's default partitioner, which ingest uses with key = bank id."""
    return int(murmur2(bank_id.encode()) & 0x7FFFFFFF) % partitions


def psycopg_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


@dataclass(slots=True)
class HistoryLoader:
    """Appends history to one namespace; call `load_to(n)` with growing totals."""

    database_url: str
    redis_url: str
    topic: str
    group: str
    partitions: int = 12
    banks: int = 50
    seed: int = 2020
    loaded: int = 0
    _rng: random.Random = field(init=False)
    _bank_ids: list[str] = field(init=False)
    _bank_partition: dict[str, int] = field(init=False)
    _next_offset: list[int] = field(init=False)
    _categories: list[str] = field(init=False)
    # A slots dataclass only has the attributes it declares: __post_init__ sets this one.
    _rules: CountingRules = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._bank_ids = [f"hist-bank-{i:03d}" for i in range(self.banks)]
        self._bank_partition = {b: partition_of(b, self.partitions) for b in self._bank_ids}
        self._next_offset = [0] * self.partitions
        catalogue = load_catalogue(Path(__file__).resolve().parents[1] / "seeds" / "targets.yaml")
        self._categories = [c.code for c in catalogue.categories]
        # The shipped rules, as the aggregator counts, so reconcile finds the loaded totals exact.
        self._rules = catalogue.rules

    def load_to(self, total: int) -> float:
        """Load events until `total` are in the history; returns seconds taken."""
        started = time.monotonic()
        fields: list[dict[str, int]] = [defaultdict(int) for _ in range(self.partitions)]
        seen: list[set[str]] = [set() for _ in range(self.partitions)]
        now = datetime.now(UTC)
        stamp = now.isoformat()
        url = psycopg_url(self.database_url)
        # Ids come over a third connection: the other two are busy with their COPY.
        with (
            psycopg.connect(url, autocommit=True) as ids_conn,
            psycopg.connect(url) as events_conn,
            psycopg.connect(url) as effects_conn,
        ):
            with (
                events_conn.cursor() as ev_cur,
                effects_conn.cursor() as ef_cur,
                ev_cur.copy(f"COPY ledger_events ({EVENT_COLUMNS}) FROM STDIN") as ev_copy,
                ef_cur.copy(f"COPY ledger_effects ({EFFECT_COLUMNS}) FROM STDIN") as ef_copy,
            ):
                while self.loaded < total:
                    size = min(CHUNK, total - self.loaded)
                    ids = _reserve_ids(ids_conn, size)
                    ev_text, ef_text, effects = self._chunk(size, ids, now, stamp)
                    ev_copy.write(ev_text)
                    ef_copy.write(ef_text)
                    by_partition: dict[int, list[Effect]] = defaultdict(list)
                    for effect in effects:
                        by_partition[effect.partition].append(effect)
                    for partition, group in by_partition.items():
                        increments = increments_for(group, self._rules)
                        target = fields[partition]
                        for name, value in increments.fields.items():
                            target[name] += value
                        seen[partition].update(increments.seen)
                    self.loaded += size
            with effects_conn.cursor() as cur:
                for partition, next_offset in enumerate(self._next_offset):
                    if next_offset:
                        cur.execute(
                            "INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) "
                            "VALUES (%s, %s, %s, %s) ON CONFLICT (group_id, topic, partition) "
                            "DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()",
                            (self.group, self.topic, partition, next_offset),
                        )
            events_conn.commit()
            effects_conn.commit()
        self._apply_redis(fields, seen, now)
        return time.monotonic() - started

    def _chunk(self, size: int, ids: list[int], now: datetime, stamp: str) -> tuple[str, str, list[Effect]]:
        rng = self._rng
        ev_lines: list[str] = []
        ef_lines: list[str] = []
        effects: list[Effect] = []
        for row_id in ids:
            bank = self._bank_ids[rng.randrange(self.banks)]
            partition = self._bank_partition[bank]
            offset = self._next_offset[partition]
            self._next_offset[partition] = offset + 1
            category = self._categories[rng.randrange(6)]
            options = CURRENCIES[category]
            currency = options[rng.randrange(len(options))]
            minor = rng.randrange(100, 10_000_000_000)
            day = HISTORY_START + timedelta(days=rng.randrange(HISTORY_DAYS))
            direction = "inbound" if rng.random() < 0.5 else "outbound"
            country = COUNTRIES[rng.randrange(len(COUNTRIES))]
            event_id = f"h{self.loaded + len(effects):011d}"
            amount = f"{minor // 100}.{minor % 100:02d}"
            iso_day = day.isoformat()
            # Same width and uniqueness as SettlementEvent.body_hash() at a 20th of the cost;
            # the canonical form only matters when a duplicate arrives, and history never
            # sends one.
            body_hash = sha256(
                f"{bank}|{event_id}|{category}|{amount}|{currency}|{iso_day}|{direction}|{country}".encode()
            ).hexdigest()
            # bytea in COPY text: \x and the hex digits, the backslash escaped for COPY.
            ev_lines.append(
                f"{row_id}\t{bank}\t{event_id}\t\\\\x{body_hash}\t{{{category}}}\t{amount}\t{currency}\t"
                f"{iso_day}\t{direction}\t{country}\tcounted\t{partition}\t{offset}\t"
                f"{stamp}\t{stamp}\n"
            )
            ef_lines.append(f"{offset}\t{row_id}\t{stamp}\t{partition}\t\\N\n")
            effects.append(
                Effect(
                    partition=partition,
                    offset=offset,
                    bank_id=bank,
                    event_id=event_id,
                    categories=(category,),
                    value_date=day,
                    currency=currency,
                    direction=direction,
                    country=country,
                    amount_minor=minor,
                    processed_at=now,
                )
            )
        return "".join(ev_lines), "".join(ef_lines), effects

    def _apply_redis(self, fields: list[dict[str, int]], seen: list[set[str]], now: datetime) -> None:
        client = redis.Redis.from_url(self.redis_url, decode_responses=True)
        pipe = client.pipeline(transaction=False)
        pending = 0
        for partition in range(self.partitions):
            if not self._next_offset[partition]:
                continue
            key = totals_key(partition)
            for name, value in fields[partition].items():
                pipe.hincrby(key, name, value)
                pending += 1
                if pending >= 20_000:
                    pipe.execute()
                    pending = 0
            if seen[partition]:
                pipe.sadd(seen_key(partition), *seen[partition])
            pipe.set(fence_key(partition), self._next_offset[partition] - 1)
            pipe.set(applied_at_key(partition), int(now.timestamp()))
            pipe.sadd(PARTITIONS_KEY, partition)
        pipe.execute()
        client.close()


def _reserve_ids(conn: psycopg.Connection[Any], count: int) -> list[int]:
    """`count` ids from ledger_events' own sequence (the aggregator's inserts take theirs
    from it too), so the bulk rows and any later real rows never collide."""
    rows = conn.execute(
        "SELECT nextval(pg_get_serial_sequence('ledger_events', 'id')) FROM generate_series(1, %s)", (count,)
    ).fetchall()
    return [int(r[0]) for r in rows]


@dataclass(frozen=True, slots=True)
class HistoryCheck:
    """Bulk-loaded Redis compared with `settlementctl rebuild` from the ledger."""

    fields_compared: int
    fields_different: int
    fences_equal: bool


def snapshot(redis_url: str, partitions: int) -> tuple[dict[int, dict[str, str]], dict[int, str | None]]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    totals = {p: client.hgetall(totals_key(p)) for p in range(partitions)}
    fences = {p: client.get(fence_key(p)) for p in range(partitions)}
    client.close()
    return totals, fences  # type: ignore[return-value]


def compare(
    before: tuple[dict[int, dict[str, str]], dict[int, str | None]],
    after: tuple[dict[int, dict[str, str]], dict[int, str | None]],
) -> HistoryCheck:
    compared = different = 0
    for partition, fields in before[0].items():
        other = after[0].get(partition, {})
        for name in set(fields) | set(other):
            compared += 1
            # A field summing to 0 may be absent on one side; both mean zero.
            if int(fields.get(name, 0)) != int(other.get(name, 0)):
                different += 1
    return HistoryCheck(compared, different, before[1] == after[1])
