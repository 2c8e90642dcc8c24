"""Status of one event from the ledger of record (pure mapping; the reads are in repository.py)."""

from __future__ import annotations

from settlement_api.ledger.repository import EventRecords
from settlement_api.ledger.schemas import DlqRecordOut, EventStatus, EventStatusOut, LedgerRecordOut, ReplacementOut
from settlement_core.business_days import business_date
from settlement_core.db.models import DlqEvent, LedgerEvent
from settlement_core.deadlines import Deadline, lateness
from settlement_core.money import format_amount
from settlement_core.references import reference_of
from settlement_core.vocabulary import MOVES_TOTALS, DlqReason, LedgerStatus

# DLQ reasons that mean "this id was already used": the bank resent an event id with another
# body, so the message was not counted again.
DUPLICATE_REASONS = frozenset({DlqReason.CONFLICTING_DUPLICATE})


def classify(ledger: LedgerEvent | None, dlq: list[DlqEvent], replaced_by: LedgerEvent | None = None) -> EventStatus:
    """The ledger row decides when there is one: a later resend that went to the DLQ does not
    undo a counted event. Without a ledger row, a duplicate-id DLQ entry reads `duplicate`.
    A reversed event whose replacement is a correction reads `corrected`."""
    if ledger is not None:
        if ledger.status == LedgerStatus.REVERSED:
            if replaced_by is not None and replaced_by.corrects is not None:
                return EventStatus.CORRECTED
            return EventStatus.REVERSED
        if ledger.status in MOVES_TOTALS:
            return EventStatus.COUNTED
        return EventStatus.DLQ  # reversal_rejected: the reversal did not match its original
    if any(d.reason in DUPLICATE_REASONS for d in dlq):
        return EventStatus.DUPLICATE
    if dlq:
        return EventStatus.DLQ
    return EventStatus.UNKNOWN


def ledger_out(row: LedgerEvent, deadline: Deadline | None, timezone: str) -> LedgerRecordOut:
    """The ledger row, with its lateness under `deadline` (docs/statistics.md, "Per-bank
    timeliness"): an original's; a reversal is not a report of a settlement."""
    late = None
    if deadline is not None and row.reverses is None:
        late = lateness(deadline, row.value_date, business_date(row.ingested_at, timezone))
    return LedgerRecordOut(
        bank_id=row.bank_id,
        event_id=row.event_id,
        categories=list(row.categories),
        category=row.categories[0] if len(row.categories) == 1 else None,
        amount=format_amount(row.amount, row.currency),
        currency=row.currency,
        value_date=row.value_date,
        direction=row.direction,
        counterparty_country=row.counterparty_country,
        reverses=row.reverses,
        uetr=str(row.uetr) if row.uetr else None,
        corrects=row.corrects,
        reason_code=row.reason_code,
        reason_text=row.reason_text,
        ledger_status=LedgerStatus(row.status),
        body_hash=row.body_hash,
        kafka_partition=row.kafka_partition,
        kafka_offset=row.kafka_offset,
        ingested_at=row.ingested_at,
        applied_at=row.applied_at,
        due=None if late is None else late.due,
        working_days_late=None if late is None else late.working_days_late,
    )


def event_status(
    bank_id: str,
    event_id: str,
    records: EventRecords,
    deadline: Deadline | None,
    timezone: str,
) -> EventStatusOut:
    ledger, replacement, dlq = records.ledger, records.reversal, records.dlq
    replaced = None
    if replacement is not None:
        replaced = ReplacementOut(
            event_id=replacement.event_id,
            kind="reversal" if replacement.corrects is None else "correction",
            reason_code=replacement.reason_code,
            reason_text=replacement.reason_text,
        )
    corrected = replaced is not None and replaced.kind == "correction"
    return EventStatusOut(
        bank_id=bank_id,
        event_id=event_id,
        reference=reference_of(event_id),
        status=classify(ledger, dlq, replacement),
        ledger=ledger_out(ledger, deadline, timezone) if ledger else None,
        reversed_by=replaced.event_id if replaced is not None and not corrected else None,
        corrected_by=replaced if corrected else None,
        replaced_by=replaced,
        dlq=[
            DlqRecordOut(
                reason=DlqReason(d.reason),
                detail=d.detail,
                kafka_partition=d.kafka_partition,
                kafka_offset=d.kafka_offset,
                created_at=d.created_at,
            )
            for d in dlq
        ],
    )
