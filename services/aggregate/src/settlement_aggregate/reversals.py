"""Pure reversal matching rules.

A reversal (event.reverses = event_id of the same bank) subtracts a counted original. It
must match that original's amount and currency exactly; an original is reversed at most
once (one active reversal: pending or applied). Anything else goes to the DLQ uncounted.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from settlement_aggregate.rows import LedgerRow
from settlement_core.vocabulary import DlqReason, LedgerStatus


class Verdict(StrEnum):
    """A rejection's value is the DLQ reason it is recorded under."""

    APPLY = "apply"
    MISMATCH = DlqReason.REVERSAL_MISMATCH.value
    ALREADY_REVERSED = DlqReason.ALREADY_REVERSED.value

    @property
    def reason(self) -> DlqReason:
        return DlqReason(self.value)


@dataclass(frozen=True, slots=True)
class ReversalClaim:
    """The parts of a reversal that must agree with its original."""

    bank_id: str
    event_id: str
    reverses: str
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class ReversalDecision:
    verdict: Verdict
    detail: str


def match(original: LedgerRow, claim: ReversalClaim, *, already_reversed_by: str | None) -> ReversalDecision:
    """Decide whether `claim` may reverse `original`.

    `already_reversed_by` is the event_id of another active (pending or applied) reversal of
    the same original, if any.
    """
    if original.bank_id != claim.bank_id or original.event_id != claim.reverses:
        return ReversalDecision(Verdict.MISMATCH, "reversal does not reference this event")
    if original.is_reversal:
        return ReversalDecision(Verdict.MISMATCH, f"{original.event_id} is itself a reversal")
    if original.status is LedgerStatus.REVERSED or (
        already_reversed_by is not None and already_reversed_by != claim.event_id
    ):
        return ReversalDecision(
            Verdict.ALREADY_REVERSED, f"{original.event_id} already reversed by {already_reversed_by}"
        )
    if original.status is not LedgerStatus.COUNTED:
        return ReversalDecision(Verdict.MISMATCH, f"{original.event_id} is not counted")
    if original.currency != claim.currency:
        return ReversalDecision(Verdict.MISMATCH, f"currency {claim.currency} != original {original.currency}")
    if original.amount != claim.amount:
        return ReversalDecision(Verdict.MISMATCH, f"amount {claim.amount} != original {original.amount}")
    return ReversalDecision(Verdict.APPLY, "")
