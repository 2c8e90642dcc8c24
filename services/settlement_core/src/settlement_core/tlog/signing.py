"""Sign the log's statements: checkpoints (tree heads) and receipt promises."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from settlement_client.tlog.checkpoint import Checkpoint
from settlement_client.tlog.leaf import SALT_BYTES, Leaf, received_at_text
from settlement_client.tlog.note import SignedNote
from settlement_client.tlog.promise import Promise, Receipt
from settlement_core.tlog.keys import LogKeys


def sign_checkpoint(keys: LogKeys, checkpoint: Checkpoint) -> str:
    """The checkpoint as a signed note, signed by the active key."""
    if checkpoint.origin != keys.origin:
        raise ValueError(f"checkpoint of {checkpoint.origin!r} cannot be signed by the log {keys.origin!r}")
    text = checkpoint.text()
    return SignedNote(text, (keys.active.sign(text),)).encode()


_SALT_CONTEXT = b"settlement-tracker/leaf-salt/v1\x00"


def derive_salt(salt_key: bytes, bank_id: str, event_id: str) -> str:
    """The leaf salt of (bank_id, event_id): HMAC-SHA256 under the log's secret salt key,
    first 16 bytes, as 32 hex digits.

    Derived rather than drawn at random so that ingest (the promise), the integrator (the
    leaf) and `log verify` (the recomputation) all arrive at the same salt without it
    travelling through Kafka and the ledger. To anyone without the key it is as unguessable
    as a random salt; whoever holds the key can recompute every salt, so the key is a secret
    like the signing key (and unlike it never needs rotating for old leaves to verify).
    """
    if len(salt_key) < 32:
        raise ValueError("the salt key must have at least 32 bytes")
    message = _SALT_CONTEXT + bank_id.encode() + b"\x00" + event_id.encode()
    return hmac.new(salt_key, message, hashlib.sha256).digest()[:SALT_BYTES].hex()


def issue_receipt(
    keys: LogKeys,
    salt_key: bytes,
    *,
    bank_id: str,
    event_id: str,
    body_sha256: str,
    received_at: datetime,
    max_merge_delay_s: int,
) -> Receipt:
    """The leaf for an accepted event and the log's signed promise to include it."""
    salt = derive_salt(salt_key, bank_id, event_id)
    leaf = Leaf(bank_id, event_id, body_sha256, received_at_text(received_at), salt)
    promise = Promise(keys.origin, leaf.leaf_hash(), leaf.salt, leaf.received_at, max_merge_delay_s)
    text = promise.text()
    return Receipt(leaf, SignedNote(text, (keys.active.sign(text),)).encode())
