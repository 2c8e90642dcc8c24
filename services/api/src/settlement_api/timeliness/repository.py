"""Statements of the timeliness slice: the arrivals of one bank's events by value date and
business arrival date, grouped in PostgreSQL (one row per pair, not per event)."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from settlement_api.kit.business_dates import business_date_of
from settlement_api.timeliness.service import Arrivals
from settlement_core.db.models import LedgerEvent


def _arrivals(sessions: sessionmaker[Session], bank_id: str, first: date, last: date, timezone: str) -> list[Arrivals]:
    arrived = business_date_of(LedgerEvent.ingested_at, timezone)
    statement = (
        select(LedgerEvent.value_date, arrived, func.count())
        .where(
            LedgerEvent.bank_id == bank_id,
            LedgerEvent.value_date.between(first, last),
            LedgerEvent.reverses.is_(None),
        )
        .group_by(LedgerEvent.value_date, arrived)
    )
    with sessions() as session:
        return [Arrivals(row[0], row[1], int(row[2])) for row in session.execute(statement)]


async def arrivals(
    sessions: sessionmaker[Session], bank_id: str, first: date, last: date, timezone: str
) -> list[Arrivals]:
    return await asyncio.to_thread(_arrivals, sessions, bank_id, first, last, timezone)
