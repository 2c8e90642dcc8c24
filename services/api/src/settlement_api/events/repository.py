"""Point lookups by (bank_id, event_id): indexed, so cost does not grow with the ledger."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from settlement_core.db.models import DlqEvent, LedgerEvent
from settlement_core.vocabulary import LedgerStatus


@dataclass(frozen=True, slots=True)
class EventRecords:
    ledger: LedgerEvent | None
    reversal: LedgerEvent | None
    dlq: list[DlqEvent]


def _find_event(sessions: sessionmaker[Session], bank_id: str, event_id: str) -> EventRecords:
    with sessions() as session:
        ledger = session.scalar(
            select(LedgerEvent).where(LedgerEvent.bank_id == bank_id, LedgerEvent.event_id == event_id)
        )
        reversal = None
        if ledger is not None and ledger.status == LedgerStatus.REVERSED:
            reversal = session.scalar(
                select(LedgerEvent)
                .where(LedgerEvent.bank_id == bank_id, LedgerEvent.reverses == event_id)
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
