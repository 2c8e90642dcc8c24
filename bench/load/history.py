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
from typing import Any

import psycopg
import redis
from sqlalchemy import Table

from bench.load.catalogue import seed_catalogue
from settlement_core.buckets import (
    PARTITIONS_KEY,
    Effect,
    applied_at_key,
    fence_key,
    increments_for,
    seen_key,
    totals_key,
)
from settlement_core.categories import Direction
from settlement_core.db.models import LEDGER_EFFECTS, LedgerEvent
from settlement_core.kafka_io import KeyHashCachingPartitioner
from settlement_core.rules import CountingRules
from settlement_core.vocabulary import LedgerStatus
from settlement_ctl.demo_feed import COUNTRIES, CURRENCY_MIX

CHUNK = 50_000
HISTORY_START = date(2016, 1, 1)
HISTORY_DAYS = (date(2020, 12, 31) - HISTORY_START).days + 1
# The demo feed's currency mix per category (settlement_ctl.demo_feed), each currency
# repeated by its weight so that one draw picks one: the Redis layout has the shape the demo
# and a real feed give it (a few currencies per category).
CURRENCIES: dict[str, tuple[str, ...]] = {
    code: tuple(currency for currency, weight in mix for _ in range(weight)) for code, mix in CURRENCY_MIX.items()
}


def copy_row_template(table: Table) -> str:
    """A COPY text row of `table` in its own column order: a `{name}` slot for every NOT NULL
    column and NULL (`\\N`) for the nullable ones (a reversal's links, which history, made
    of originals only, never has). A column added or renamed in the model is then a KeyError
    at the first row, never a value in the wrong column."""
    cells = ["\\N" if column.nullable else "{" + column.name + "}" for column in table.columns]
    return "\t".join(cells) + "\n"


_EVENTS: Table = LedgerEvent.__table__  # type: ignore[assignment]
EVENT_COLUMNS = ", ".join(c.name for c in _EVENTS.columns)
EVENT_ROW = copy_row_template(_EVENTS)
EFFECT_COLUMNS = ", ".join(c.name for c in LEDGER_EFFECTS.columns)
EFFECT_ROW = copy_row_template(LEDGER_EFFECTS)
COUNTED = LedgerStatus.COUNTED.value


class _OneTopic:
    """The two questions the producer's partitioner asks of the cluster metadata, answered
    for one topic of `partitions` partitions."""

    def __init__(self, partitions: int) -> None:
        self._partitions = set(range(partitions))

    def topics(self) -> set[str]:
        return {_HISTORY_TOPIC}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return self._partitions


_HISTORY_TOPIC = "history"


def partition_of(bank_id: str, partitions: int) -> int:
    """The partition ingest's producer sends a bank's events to (key = bank id), computed by
    the producer's own partitioner (settlement_core.kafka_io)."""
    key = bank_id.encode()
    return KeyHashCachingPartitioner().partition(_HISTORY_TOPIC, bank_id, key, None, None, _OneTopic(partitions))


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
        catalogue = seed_catalogue()
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
        event_row, effect_row = EVENT_ROW.format, EFFECT_ROW.format
        ev_lines: list[str] = []
        ef_lines: list[str] = []
        effects: list[Effect] = []
        for row_id in ids:
            bank = self._bank_ids[rng.randrange(self.banks)]
            partition = self._bank_partition[bank]
            offset = self._next_offset[partition]
            self._next_offset[partition] = offset + 1
            category = self._categories[rng.randrange(len(self._categories))]
            options = CURRENCIES[category]
            currency = options[rng.randrange(len(options))]
            minor = rng.randrange(100, 10_000_000_000)
            day = HISTORY_START + timedelta(days=rng.randrange(HISTORY_DAYS))
            direction = Direction.INBOUND.value if rng.random() < 0.5 else Direction.OUTBOUND.value
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
            ev_lines.append(
                event_row(
                    id=row_id,
                    bank_id=bank,
                    event_id=event_id,
                    # bytea in COPY text: \x and the hex digits, the backslash escaped for COPY.
                    body_hash="\\\\x" + body_hash,
                    categories="{" + category + "}",
                    amount=amount,
                    currency=currency,
                    value_date=iso_day,
                    direction=direction,
                    counterparty_country=country,
                    status=COUNTED,
                    kafka_partition=partition,
                    kafka_offset=offset,
                    ingested_at=stamp,
                    applied_at=stamp,
                )
            )
            ef_lines.append(
                effect_row(kafka_offset=offset, event_row_id=row_id, processed_at=stamp, kafka_partition=partition)
            )
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
