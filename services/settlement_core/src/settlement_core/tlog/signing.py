"""Sign the log's statements: checkpoints (tree heads) and receipt promises."""

from __future__ import annotations

import secrets
from datetime import datetime

from settlement_client.tlog.checkpoint import Checkpoint
from settlement_client.tlog.leaf import SALT_BYTES, Leaf
from settlement_client.tlog.note import SignedNote
from settlement_client.tlog.promise import Promise, Receipt
from settlement_core.tlog.keys import LogKeys


def sign_checkpoint(keys: LogKeys, checkpoint: Checkpoint) -> str:
    """The checkpoint as a signed note, signed by the active key."""
    if checkpoint.origin != keys.origin:
        raise ValueError(f"checkpoint of {checkpoint.origin!r} cannot be signed by the log {keys.origin!r}")
    text = checkpoint.text()
    return SignedNote(text, (keys.active.sign(text),)).encode()


def new_salt() -> str:
    """A fresh leaf salt: 16 bytes from the OS's CSPRNG, as 32 lowercase hex digits."""
    return secrets.token_hex(SALT_BYTES)


def issue_receipt(
    keys: LogKeys,
    *,
    bank_id: str,
    event_id: str,
    body_sha256: str,
    received_at: datetime,
    max_merge_delay_s: int,
    salt: str | None = None,
) -> Receipt:
    """The leaf for an accepted event and the log's signed promise to include it."""
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    leaf = Leaf(bank_id, event_id, body_sha256, received_at.isoformat(), salt or new_salt())
    promise = Promise(keys.origin, leaf.leaf_hash(), leaf.salt, leaf.received_at, max_merge_delay_s)
    text = promise.text()
    return Receipt(leaf, SignedNote(text, (keys.active.sign(text),)).encode())
