"""Every SQL statement of the API (the ledger of record, the bank register, the DLQ).

- Point lookups by (bank_id, event_id) and by bank id: indexed, so their cost does not grow
  with the ledger.
- Operator aggregates over `ledger_events` / `dlq_events` grouped by bank, run only for
  operator pages and (cached) for the completeness gauges; the figures themselves (settled
  amounts) come from the Redis buckets like every other read.

Sessions are synchronous (settlement_core.auth uses them too): every query runs in a worker
thread through `asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from settlement_core.db.models import Bank, DlqEvent, LedgerEvent
from settlement_core.identifiers import UNKNOWN_COUNTRY
from settlement_core.rules import CountingRules
from settlement_core.vocabulary import LedgerStatus


@dataclass(frozen=True, slots=True)
class EventRecords:
    ledger: LedgerEvent | None
    reversal: LedgerEvent | None  # the reversal or correction that replaced a reversed original
    dlq: list[DlqEvent]


def _find_event(sessions: sessionmaker[Session], bank_id: str, event_id: str) -> EventRecords:
    with sessions() as session:
        ledger = session.scalar(
            select(LedgerEvent).where(LedgerEvent.bank_id == bank_id, LedgerEvent.event_id == event_id)
        )
        reversal = None
        if ledger is not None and ledger.status == LedgerStatus.REVERSED:
            # What replaced it: its reversal or its correction (ix_ledger_reverses, ix_ledger_corrects).
            reversal = session.scalar(
                select(LedgerEvent)
                .where(
                    LedgerEvent.bank_id == bank_id,
                    or_(LedgerEvent.reverses == event_id, LedgerEvent.corrects == event_id),
                    LedgerEvent.status != LedgerStatus.REVERSAL_REJECTED,
                )
                .order_by(LedgerEvent.kafka_offset)
                .limit(1)
            )
        dlq = list(
            session.scalars(
                select(DlqEvent)
                .where(DlqEvent.bank_id == bank_id, DlqEvent.event_id == event_id)
                .order_by(DlqEvent.id)
                .limit(20)
            ).all()
        )
    return EventRecords(ledger, reversal, dlq)


async def find_event(sessions: sessionmaker[Session], bank_id: str, event_id: str) -> EventRecords:
    return await asyncio.to_thread(_find_event, sessions, bank_id, event_id)


def _bank_exists(sessions: sessionmaker[Session], bank_id: str) -> bool:
    with sessions() as session:
        found = session.scalar(select(Bank.bank_id).where(Bank.bank_id == bank_id))
    return found is not None


async def bank_exists(sessions: sessionmaker[Session], bank_id: str) -> bool:
    return await asyncio.to_thread(_bank_exists, sessions, bank_id)


@dataclass(frozen=True, slots=True)
class BankRow:
    bank_id: str
    name: str
    active: bool


@dataclass(frozen=True, slots=True)
class Activity:
    """One bank's receipts: latest ever, and counts since the start of the DLQ-rate window."""

    last_ledger: datetime | None
    last_dlq: datetime | None
    ledger_since: int
    dlq_since: int
    # Data quality: ledger rows in the window whose counterparty country the bank's message
    # did not name (settlement_core.identifiers.UNKNOWN_COUNTRY).
    unknown_country_since: int = 0


@dataclass(frozen=True, slots=True)
class TargetCounts:
    events: int
    last_received: datetime | None


def _banks(sessions: sessionmaker[Session]) -> list[BankRow]:
    with sessions() as session:
        rows = session.execute(select(Bank.bank_id, Bank.name, Bank.active).order_by(Bank.bank_id)).all()
    return [BankRow(r.bank_id, r.name, bool(r.active)) for r in rows]


def _activity(sessions: sessionmaker[Session], since: datetime) -> dict[str, Activity]:
    with sessions() as session:
        ledger = session.execute(
            select(
                LedgerEvent.bank_id,
                func.max(LedgerEvent.ingested_at),
                func.count().filter(LedgerEvent.ingested_at >= since),
                func.count().filter(
                    LedgerEvent.ingested_at >= since, LedgerEvent.counterparty_country == UNKNOWN_COUNTRY
                ),
            ).group_by(LedgerEvent.bank_id)
        ).all()
        dlq = session.execute(
            select(
                DlqEvent.bank_id,
                func.max(DlqEvent.created_at),
                func.count().filter(DlqEvent.created_at >= since),
            ).group_by(DlqEvent.bank_id)
        ).all()
    by_ledger = {r[0]: (r[1], int(r[2])) for r in ledger}
    unknown = {r[0]: int(r[3]) for r in ledger}
    by_dlq = {r[0]: (r[1], int(r[2])) for r in dlq if r[0] is not None}
    return {
        bank: Activity(
            by_ledger.get(bank, (None, 0))[0],
            by_dlq.get(bank, (None, 0))[0],
            by_ledger.get(bank, (None, 0))[1],
            by_dlq.get(bank, (None, 0))[1],
            unknown.get(bank, 0),
        )
        for bank in by_ledger.keys() | by_dlq.keys()
    }


def _target_counts(
    sessions: sessionmaker[Session], category: str, start: date, end: date, rules: CountingRules
) -> dict[str, TargetCounts]:
    """Counted events per bank toward `category`: declared or added by a rule. The ledger keeps
    the declared categories only, so the rules run here, once per distinct group of the fields
    they read (few groups, however many events)."""
    with sessions() as session:
        rows = session.execute(
            select(
                LedgerEvent.bank_id,
                LedgerEvent.categories,
                LedgerEvent.currency,
                LedgerEvent.counterparty_country,
                LedgerEvent.direction,
                func.count().filter(LedgerEvent.status == LedgerStatus.COUNTED),
                func.max(LedgerEvent.ingested_at),
            )
            .where(LedgerEvent.value_date.between(start, end))
            .group_by(
                LedgerEvent.bank_id,
                LedgerEvent.categories,
                LedgerEvent.currency,
                LedgerEvent.counterparty_country,
                LedgerEvent.direction,
            )
        ).all()
    counted: dict[str, int] = defaultdict(int)
    last: dict[str, datetime] = {}
    for bank, categories, currency, country, direction, n, latest in rows:
        if category not in rules.counts_toward(tuple(categories), currency, country, direction):
            continue
        counted[bank] += int(n)
        if latest is not None and (bank not in last or latest > last[bank]):
            last[bank] = latest
    return {bank: TargetCounts(counted[bank], last.get(bank)) for bank in counted}


async def registered_banks(sessions: sessionmaker[Session]) -> list[BankRow]:
    return await asyncio.to_thread(_banks, sessions)


async def bank_activity(sessions: sessionmaker[Session], since: datetime) -> dict[str, Activity]:
    return await asyncio.to_thread(_activity, sessions, since)


async def target_counts(
    sessions: sessionmaker[Session], category: str, start: date, end: date, rules: CountingRules
) -> dict[str, TargetCounts]:
    return await asyncio.to_thread(_target_counts, sessions, category, start, end, rules)
