"""An event's status from its ledger, reversal and dead-letter records (ledger/events.py)."""

from __future__ import annotations

import pytest

from settlement_api.ledger.events import classify
from settlement_api.ledger.schemas import EventStatus
from settlement_core.db.models import DlqEvent, LedgerEvent


def _ledger(status: str) -> LedgerEvent:
    return LedgerEvent(status=status)


@pytest.mark.parametrize(
    ("ledger", "reasons", "expected"),
    [
        ("counted", [], EventStatus.COUNTED),
        ("reversed", [], EventStatus.REVERSED),
        ("reversal_applied", [], EventStatus.COUNTED),
        ("reversal_rejected", ["reversal_mismatch"], EventStatus.DLQ),
        ("counted", ["conflicting_duplicate"], EventStatus.COUNTED),
        (None, ["conflicting_duplicate"], EventStatus.DUPLICATE),
        (None, ["schema"], EventStatus.DLQ),
        (None, [], EventStatus.UNKNOWN),
    ],
)
def test_event_classification(ledger: str | None, reasons: list[str], expected: EventStatus) -> None:
    rows = [DlqEvent(reason=r) for r in reasons]
    assert classify(_ledger(ledger) if ledger else None, rows) is expected
