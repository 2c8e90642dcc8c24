"""Pure reversal and correction matching rules.

A reversal (event.reverses = event_id of the same bank) subtracts a counted original. It
must match that original's amount and currency exactly; an original is reversed at most
once (one active reversal: pending or applied). Anything else goes to the DLQ uncounted.

A correction (event.corrects) subtracts its original the same way and counts its own
figure: the same rules on the target (`target_problem`), without the amount and currency
match (replacing those is what a correction is for). An original is replaced once, by a
reversal or by a correction; a correction is itself an original, so it can be corrected
or reversed in turn (a chain).
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
    problem = target_problem(original, claim.event_id, already_reversed_by=already_reversed_by)
    if problem is not None:
        return problem
    if original.currency != claim.currency:
        return ReversalDecision(Verdict.MISMATCH, f"currency {claim.currency} != original {original.currency}")
    if original.amount != claim.amount:
        return ReversalDecision(Verdict.MISMATCH, f"amount {claim.amount} != original {original.amount}")
    return ReversalDecision(Verdict.APPLY, "")


def target_problem(original: LedgerRow, claimant: str, *, already_reversed_by: str | None) -> ReversalDecision | None:
    """Why `original` cannot be reversed or corrected by the event `claimant`, or None: it
    is a reversal, it was already replaced (by a reversal or a correction), or it is not
    counted. The rules a reversal and a correction share."""
    if original.is_reversal:
        return ReversalDecision(Verdict.MISMATCH, f"{original.event_id} is itself a reversal")
    if original.status is LedgerStatus.REVERSED or (
        already_reversed_by is not None and already_reversed_by != claimant
    ):
        by = f" by {already_reversed_by}" if already_reversed_by is not None else ""
        return ReversalDecision(Verdict.ALREADY_REVERSED, f"{original.event_id} already reversed or corrected{by}")
    if original.status is not LedgerStatus.COUNTED:
        return ReversalDecision(Verdict.MISMATCH, f"{original.event_id} is not counted")
    return None
