"""Statements of the quality slice: one bank's month of ledger rows, dead letters and refusals
at the edge, counted in PostgreSQL. Months of value dates for the ledger's facts; months of receipt (business
timezone) for dead letters and arrivals, which may carry no readable value date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from settlement_api.kit.business_dates import business_date_of
from settlement_core.db.models import Bank, DlqEvent, IntakeRejection, LedgerEvent
from settlement_core.identifiers import UNKNOWN_COUNTRY


@dataclass(frozen=True, slots=True)
class LedgerMonth:
    reversals: int
    unknown_countries: int
    corrections: int = 0


def ledger_month(session: Session, bank_id: str, first: date, last: date) -> LedgerMonth:
    row = session.execute(
        select(
            func.count().filter(LedgerEvent.reverses.is_not(None)),
            func.count().filter(LedgerEvent.reverses.is_(None), LedgerEvent.counterparty_country == UNKNOWN_COUNTRY),
            func.count().filter(LedgerEvent.corrects.is_not(None)),
        ).where(LedgerEvent.bank_id == bank_id, LedgerEvent.value_date.between(first, last))
    ).one()
    return LedgerMonth(int(row[0]), int(row[1]), int(row[2]))


def dead_letters(session: Session, bank_id: str, first: date, last: date, timezone: str) -> int:
    received = business_date_of(DlqEvent.created_at, timezone)
    return int(
        session.scalar(select(func.count()).where(DlqEvent.bank_id == bank_id, received.between(first, last))) or 0
    )


def intake_rejections(session: Session, bank_id: str, period: str) -> int:
    """Events of the bank refused at the edge for their content (422) in the month of receipt
    `period` (YYYY-MM), as ingest counted them (settlement_ingest.rejections)."""
    return int(
        session.scalar(
            select(IntakeRejection.count).where(IntakeRejection.bank_id == bank_id, IntakeRejection.period == period)
        )
        or 0
    )


def arrival_days(session: Session, bank_id: str, first: date, last: date, timezone: str) -> set[date]:
    """The business dates in [first, last] on which anything of the bank arrived (a ledger
    row or a dead letter)."""
    ledger = business_date_of(LedgerEvent.ingested_at, timezone)
    dlq = business_date_of(DlqEvent.created_at, timezone)
    statement = union(
        select(ledger).where(LedgerEvent.bank_id == bank_id, ledger.between(first, last)).distinct(),
        select(dlq).where(DlqEvent.bank_id == bank_id, dlq.between(first, last)).distinct(),
    )
    return {row[0] for row in session.execute(statement)}


def active_banks(session: Session) -> list[tuple[str, str]]:
    return [
        (r[0], r[1]) for r in session.execute(select(Bank.bank_id, Bank.name).where(Bank.active).order_by(Bank.bank_id))
    ]
