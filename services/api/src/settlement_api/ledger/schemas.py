"""Response shapes of the ledger slice: one event's status, the operator views, the audit log."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from settlement_core.vocabulary import DlqReason, LedgerStatus


class EventStatus(StrEnum):
    COUNTED = "counted"
    DUPLICATE = "duplicate"
    REVERSED = "reversed"
    CORRECTED = "corrected"
    DLQ = "dlq"
    UNKNOWN = "unknown"


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
    corrects: str | None = Field(
        description="A correction: the event_id it replaces (GET that event for its own record); else null."
    )
    reason_code: str | None = Field(
        description="Why (seeds/correction_reasons.yaml): always on a correction, optional on a reversal."
    )
    reason_text: str | None = Field(description="The bank's note with the reason_code (required for OTHER).")
    ledger_status: LedgerStatus = Field(
        description="counted | reversed (originals and corrections; a corrected event is reversed); "
        "reversal_applied | reversal_pending | reversal_rejected (reversals)"
    )
    body_hash: str
    kafka_partition: int
    kafka_offset: int
    ingested_at: datetime
    applied_at: datetime
    due: date | None = Field(
        description="When the event was due (seeds/deadlines.yaml); null for a reversal, without a deadlines "
        "file, or outside the working-day calendar's years"
    )
    working_days_late: int | None = Field(
        description="Working days after the due date it arrived (ingested_at, business date); 0: on time"
    )


class ReplacementOut(BaseModel):
    """The event that replaced this one, and why."""

    event_id: str
    kind: str = Field(description="reversal | correction")
    reason_code: str | None
    reason_text: str | None


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
    status: EventStatus = Field(
        description="counted | duplicate | reversed | corrected | dlq | unknown; corrected: replaced by a "
        "correction (corrected_by), which counts instead"
    )
    ledger: LedgerRecordOut | None
    reversed_by: str | None = Field(description="event_id of the reversal, when reversed")
    corrected_by: ReplacementOut | None = Field(
        default=None,
        description="The correction that replaced this event, with its reason; follow corrected_by.event_id "
        "down a chain of corrections, ledger.corrects back up it.",
    )
    replaced_by: ReplacementOut | None = Field(
        default=None, description="What replaced this event (its reversal or correction), with the reason given."
    )
    dlq: list[DlqRecordOut]


class LeagueRowOut(BaseModel):
    rank: int
    bank_id: str
    name: str
    settled: str = Field(description="From the window start to as_of, in the target currency.")
    settled_plan_unit: str
    share: str = Field(description="settled / the sum over banks, 6 decimals (0 when nothing is settled).")
    events: int = Field(description="Events of this target in the window now counted (not reversed).")
    last_event_received: datetime | None = Field(description="Latest ingest time of this bank's events of the target.")


class LeagueTargetOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    currency: str
    plan_unit: str
    as_of: date
    settled: str = Field(description="Sum over banks.")
    settled_plan_unit: str
    banks: list[LeagueRowOut]


class LeagueOut(BaseModel):
    as_of: date
    targets: list[LeagueTargetOut]


class BankCompletenessOut(BaseModel):
    bank_id: str
    name: str
    active: bool
    last_event_received: datetime | None = Field(description="Latest event received (ledger or DLQ).")
    business_days_silent: int | None = Field(
        description="Business days after the last event's business date, up to today; null: never sent."
    )
    silent: bool
    events_in_window: int = Field(description="Ledger rows received in the DLQ-rate window.")
    dlq_in_window: int = Field(description="DLQ entries created in the DLQ-rate window.")
    unknown_country_in_window: int = Field(
        description="Ledger rows received in the window whose counterparty country the message did not name "
        '(counterparty_country "ZZ"): a data-quality signal; such events count only toward declared categories.'
    )
    dlq_rate: str = Field(description="dlq / (events + dlq) in the window, 6 decimals.")
    dlq_rate_high: bool


class CompletenessOut(BaseModel):
    today: date
    timezone: str
    silent_business_days: int
    dlq_rate_threshold: str
    dlq_rate_window_days: int
    silent: list[str] = Field(description="Active banks silent for at least silent_business_days.")
    dlq_rate_high: list[str] = Field(description="Active banks whose DLQ rate is above the threshold.")
    banks: list[BankCompletenessOut]


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str = Field(description='"cli:<user>" for settlementctl, "operator:<name>" for API reads.')
    action: str = Field(description="e.g. bank.add, bank.hmac.rotate, operator.key.revoke, operator.read")
    subject: str = Field(description="The bank id, operator name or request path acted on.")
    detail: dict[str, object] = Field(description="Never a secret or key: key ids, overlaps, query parameters.")


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut] = Field(description="Newest first.")
    next_before: int | None = Field(description="Pass as `before` for the next (older) page; null at the end.")
