"""Value types of the ledger shared by the pure planner and the PostgreSQL repository."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from settlement_core.vocabulary import LedgerStatus

# (bank_id, event_id): the identity of an event in the ledger.
Key = tuple[str, str]


# ledger_events.status (the one vocabulary lives in settlement_core.vocabulary).


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """What the planner needs to know about one ledger_events row (existing or new)."""

    row_id: int | None  # None for rows planned in this batch
    bank_id: str
    event_id: str
    body_hash: str
    categories: tuple[str, ...]  # as the bank declared them (derived ones are never stored)
    amount: Decimal
    currency: str
    value_date: date
    direction: str
    country: str
    reverses: str | None
    uetr: UUID | None
    status: LedgerStatus
    partition: int
    offset: int
    ingested_at: datetime
    # A correction's reference and reason (settlement_core.corrections); None otherwise.
    corrects: str | None = None
    reason_code: str | None = None
    reason_text: str | None = None

    @property
    def key(self) -> Key:
        return (self.bank_id, self.event_id)

    @property
    def is_reversal(self) -> bool:
        return self.reverses is not None

    @property
    def is_correction(self) -> bool:
        return self.corrects is not None
