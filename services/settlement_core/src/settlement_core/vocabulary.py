"""The ledger's vocabulary: what `ledger_events.status` and `dlq_events.reason` may hold.

The aggregator writes these values and the API reads them; both import them from here so
the two sides cannot drift (tests/settlement_core/test_vocabulary.py checks that every
reason the API interprets is one the aggregator can write).
"""

from __future__ import annotations

from enum import StrEnum


class LedgerStatus(StrEnum):
    """ledger_events.status. Originals: counted | reversed (a corrected original is reversed:
    its correction subtracted it). Corrections are originals of their own figure. Reversals:
    the other three."""

    COUNTED = "counted"
    REVERSED = "reversed"
    REVERSAL_APPLIED = "reversal_applied"
    REVERSAL_PENDING = "reversal_pending"
    # A reversal that waited for its original and then did not match it (it is in the DLQ).
    REVERSAL_REJECTED = "reversal_rejected"


class DlqReason(StrEnum):
    """dlq_events.reason: why a message was not counted."""

    UNDECODABLE = "undecodable"  # not a JSON object, or a tombstone
    SCHEMA = "schema"  # JSON that is not a valid event of the contract
    CONFLICTING_DUPLICATE = "conflicting_duplicate"  # an event id already used with another body
    REVERSAL_MISMATCH = "reversal_mismatch"
    ALREADY_REVERSED = "already_reversed"  # or already corrected: either replaced it once
    # A correction of an event the ledger does not hold (yet): unlike a reversal it cannot
    # wait, since it counts its own figure (docs/statistics.md, "Corrections").
    UNKNOWN_ORIGINAL = "unknown_original"
    # The event's bank_id is not a registered bank (only a writer that bypassed ingest can
    # produce one; settlement_aggregate/registry.py). Never counted.
    UNKNOWN_BANK = "unknown_bank"


# Statuses whose row moves the totals (an original counted, a reversal applied or waiting).
MOVES_TOTALS = frozenset({LedgerStatus.COUNTED, LedgerStatus.REVERSAL_APPLIED, LedgerStatus.REVERSAL_PENDING})
