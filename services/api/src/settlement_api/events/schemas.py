from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from settlement_core.vocabulary import DlqReason, LedgerStatus


class LedgerRecordOut(BaseModel):
    bank_id: str
    event_id: str
    categories: list[str] = Field(description="The categories the bank declared (derivation rules may add more).")
    category: str | None = Field(description="The only category when there is one, else null.")
    amount: str
    currency: str
    value_date: date
    direction: str
    counterparty_country: str
    reverses: str | None
    uetr: str | None
    ledger_status: LedgerStatus = Field(
        description="counted | reversed (originals); reversal_applied | "
        "reversal_pending | reversal_rejected (reversals)"
    )
    body_hash: str
    kafka_partition: int
    kafka_offset: int
    ingested_at: datetime
    applied_at: datetime


class DlqRecordOut(BaseModel):
    reason: DlqReason
    detail: str
    kafka_partition: int
    kafka_offset: int
    created_at: datetime


class EventStatusOut(BaseModel):
    bank_id: str
    event_id: str
    reference: str = Field(
        description="The bank's own reference the id stands for: the id with its percent-escapes decoded "
        "(an ISO 20022 EndToEndId 'ABC/1' has the event id 'ABC%2F1'; docs/ingest-contract.md)."
    )
    status: str = Field(description="counted | duplicate | reversed | dlq | unknown")
    ledger: LedgerRecordOut | None
    reversed_by: str | None = Field(description="event_id of the reversal, when reversed")
    dlq: list[DlqRecordOut]
