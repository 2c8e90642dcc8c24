"""Populate an isolated environment the way the aggregator does (no fakes).

Rows go into PostgreSQL `ledger_events` / `ledger_effects` / `dlq_events`, and the same
effects are applied to Redis with `settlement_core.buckets.increments_for` + HINCRBY into
`totals_key(p)`, SADD `seen_key(p)` and SADD `stl:partitions`, exactly as documented in
settlement_core/buckets.py. Keys are created as Bank/Operator rows with key_hash = sha256(key).
"""

from __future__ import annotations

import hashlib
import secrets
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import redis
from sqlalchemy import Engine, create_engine, insert, select, update
from sqlalchemy.orm import Session

from settlement_core.buckets import (
    PARTITIONS_KEY,
    Effect,
    fence_key,
    increments_for,
    seen_key,
    totals_key,
)
from settlement_core.db.models import LEDGER_EFFECTS, Bank, DlqEvent, FxRateRow, LedgerEvent, Operator
from settlement_core.fx import load_fx_csv
from settlement_core.money import to_minor
from settlement_core.rules import NO_RULES
from tests.conftest import ROOT


def new_key() -> str:
    return "stk_" + secrets.token_urlsafe(24)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Event:
    bank_id: str
    event_id: str
    category: str
    amount: Decimal
    currency: str
    value_date: date
    direction: str = "inbound"
    country: str = "HK"
    processed_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class LedgerState:
    """Writes ledger rows and Redis buckets for one isolated_env."""

    def __init__(self, env: dict[str, str]) -> None:
        self.engine: Engine = create_engine(env["DATABASE_URL"])
        self.redis = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
        self.partitions = int(env.get("EVENTS_PARTITIONS", "12"))
        self._offsets: dict[int, int] = {}

    def close(self) -> None:
        self.engine.dispose()
        self.redis.close()

    # ------------------------------------------------------------------ reference data
    def load_fx_seeds(self) -> None:
        with Session(self.engine) as session, session.begin():
            for rate in load_fx_csv(ROOT / "seeds" / "fx_rates.csv"):
                session.merge(
                    FxRateRow(
                        currency=rate.currency,
                        valid_from=rate.valid_from,
                        cny_per_unit=rate.cny_per_unit,
                        source=rate.source,
                        sample=rate.sample,
                    )
                )

    def add_bank(self, bank_id: str) -> str:
        key = new_key()
        with Session(self.engine) as session, session.begin():
            session.add(
                Bank(
                    bank_id=bank_id,
                    name=f"Bank {bank_id}",
                    key_hash=key_hash(key),
                    active=True,
                    rate_per_second=1000,
                    burst=1000,
                )
            )
        return key

    def add_operator(self, name: str) -> str:
        key = new_key()
        with Session(self.engine) as session, session.begin():
            session.add(Operator(name=name, key_hash=key_hash(key), active=True))
        return key

    # ------------------------------------------------------------------ events
    def partition_of(self, bank_id: str) -> int:
        return zlib.crc32(bank_id.encode()) % self.partitions

    def _next_offset(self, partition: int) -> int:
        offset = self._offsets.get(partition, -1) + 1
        self._offsets[partition] = offset
        return offset

    def _apply(self, effect: Effect) -> None:
        # Declared categories only: these tests check the read side, not derivation rules.
        increments = increments_for([effect], NO_RULES)
        pipe = self.redis.pipeline(transaction=True)
        for name, delta in increments.fields.items():
            pipe.hincrby(totals_key(effect.partition), name, delta)
        if increments.seen:
            pipe.sadd(seen_key(effect.partition), *increments.seen)
        pipe.sadd(PARTITIONS_KEY, str(effect.partition))
        pipe.set(fence_key(effect.partition), str(effect.offset))
        pipe.execute()

    def _effect(self, event: Event, partition: int, offset: int, sign: int, event_id: str) -> Effect:
        return Effect(
            partition=partition,
            offset=offset,
            bank_id=event.bank_id,
            event_id=event_id,
            categories=(event.category,),
            value_date=event.value_date,
            currency=event.currency,
            direction=event.direction,
            country=event.country,
            amount_minor=sign * to_minor(event.amount, event.currency),
            processed_at=event.processed_at,
        )

    def _ledger_row(
        self, event: Event, event_id: str, partition: int, offset: int, status: str, reverses: str | None = None
    ) -> LedgerEvent:
        return LedgerEvent(
            bank_id=event.bank_id,
            event_id=event_id,
            body_hash=hashlib.sha256(f"{event_id}|{event.amount}".encode()).hexdigest(),
            categories=[event.category],
            amount=event.amount,
            currency=event.currency,
            value_date=event.value_date,
            direction=event.direction,
            counterparty_country=event.country,
            reverses=reverses,
            uetr=None,
            status=status,
            kafka_partition=partition,
            kafka_offset=offset,
            ingested_at=event.processed_at,
            applied_at=event.processed_at,
        )

    def _journal(self, session: Session, effect: Effect, event_row_id: int, reversal_row_id: int | None) -> None:
        """The effect as the aggregator stores it: references to the rows it is made of."""
        session.execute(
            insert(LEDGER_EFFECTS).values(
                kafka_partition=effect.partition,
                kafka_offset=effect.offset,
                event_row_id=event_row_id,
                reversal_row_id=reversal_row_id,
                processed_at=effect.processed_at,
            )
        )

    def count(self, event: Event) -> None:
        partition = self.partition_of(event.bank_id)
        offset = self._next_offset(partition)
        effect = self._effect(event, partition, offset, +1, event.event_id)
        with Session(self.engine) as session, session.begin():
            row = self._ledger_row(event, event.event_id, partition, offset, "counted")
            session.add(row)
            session.flush()
            self._journal(session, effect, row.id, None)
        self._apply(effect)

    def reverse(self, original: Event, reversal_id: str) -> None:
        partition = self.partition_of(original.bank_id)
        offset = self._next_offset(partition)
        effect = self._effect(original, partition, offset, -1, reversal_id)
        with Session(self.engine) as session, session.begin():
            reversal = self._ledger_row(
                original, reversal_id, partition, offset, "reversal_applied", reverses=original.event_id
            )
            session.add(reversal)
            session.flush()
            original_id = session.scalar(
                select(LedgerEvent.id).where(
                    LedgerEvent.bank_id == original.bank_id, LedgerEvent.event_id == original.event_id
                )
            )
            assert original_id is not None, "reverse() needs the original counted first"
            session.execute(update(LedgerEvent).where(LedgerEvent.id == original_id).values(status="reversed"))
            self._journal(session, effect, original_id, reversal.id)
        self._apply(effect)

    def dead_letter(self, bank_id: str, event_id: str, reason: str) -> None:
        with Session(self.engine) as session, session.begin():
            session.add(
                DlqEvent(
                    bank_id=bank_id,
                    event_id=event_id,
                    reason=reason,
                    detail=f"test: {reason}",
                    kafka_partition=0,
                    kafka_offset=self._next_offset(0),
                    raw=b"{}",
                )
            )
