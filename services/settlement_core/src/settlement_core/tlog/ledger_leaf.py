"""The one rule that turns a ledger row into a log leaf: the integrator appends it, the API's
proofs rebuild it, and the audit (`settlementctl log verify`) recomputes it. Kept in one
place so the three can never disagree about what a leaf commits to."""

from __future__ import annotations

from datetime import datetime

from settlement_client.tlog.leaf import Leaf, received_at_text


def ledger_leaf(bank_id: str, event_id: str, body_hash: bytes, ingested_at: datetime, salt: str) -> Leaf:
    """The leaf of the ledger row (bank_id, event_id, body_hash, ingested_at) with this salt
    (settlement_core.tlog.signing.derive_salt, 32 hex digits)."""
    return Leaf(bank_id, event_id, body_hash.hex(), received_at_text(ingested_at), salt)
