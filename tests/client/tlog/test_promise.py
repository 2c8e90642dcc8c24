"""The receipt promise: its text, signature, and that it binds exactly the bank's leaf."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from settlement_client.tlog.checkpoint import CheckpointError, open_checkpoint
from settlement_client.tlog.leaf import Leaf
from settlement_client.tlog.promise import HEADER, Promise, PromiseError, Receipt, open_promise, verify_receipt
from settlement_core.tlog.keys import LogKeys, SigningKey
from settlement_core.tlog.signing import issue_receipt

ORIGIN = "settlement.example/log"
AT = datetime(2026, 12, 7, 12, 0, 0, 123456, tzinfo=UTC)


SALT_KEY = bytes(range(32))


def _receipt(keys: LogKeys, event_id: str = "E-1") -> Receipt:
    return issue_receipt(
        keys,
        SALT_KEY,
        bank_id="BANK1",
        event_id=event_id,
        body_sha256="ab" * 32,
        received_at=AT,
        max_merge_delay_s=3600,
    )


def test_promise_text_and_verification() -> None:
    keys = LogKeys(ORIGIN, SigningKey.generate(ORIGIN))
    receipt = _receipt(keys)
    text = receipt.promise.split("\n\n")[0] + "\n"
    assert text == (
        f"{HEADER}\n{ORIGIN}\n{base64.b64encode(receipt.leaf.leaf_hash()).decode()}\n"
        f"{receipt.leaf.salt}\n2026-12-07T12:00:00.123456Z\n3600\n"
    )
    promise = verify_receipt(Receipt.from_json(receipt.to_json()), ORIGIN, keys.published)
    assert promise.merge_deadline == AT + timedelta(hours=1)
    assert len(receipt.leaf.salt) == 32
    assert _receipt(keys).leaf.salt == receipt.leaf.salt  # derived: ingest and integrator agree
    assert _receipt(keys, "E-2").leaf.salt != receipt.leaf.salt  # and distinct per event


def test_a_receipt_for_another_leaf_fails() -> None:
    keys = LogKeys(ORIGIN, SigningKey.generate(ORIGIN))
    receipt = _receipt(keys)
    for change in ({"event_id": "E-2"}, {"body_sha256": "cd" * 32}, {"bank_id": "BANK2"}):
        forged = Receipt(Leaf.from_json({**receipt.leaf.as_json(), **change}), receipt.promise)
        with pytest.raises(PromiseError, match="another leaf"):
            verify_receipt(forged, ORIGIN, keys.published)


def test_wrong_key_or_origin_fails() -> None:
    keys = LogKeys(ORIGIN, SigningKey.generate(ORIGIN))
    receipt = _receipt(keys)
    with pytest.raises(PromiseError, match="signature"):
        verify_receipt(receipt, ORIGIN, LogKeys(ORIGIN, SigningKey.generate(ORIGIN)).published)
    with pytest.raises(PromiseError):
        verify_receipt(receipt, "other.example/log", keys.published)


def test_a_promise_is_never_a_checkpoint() -> None:
    """Same key, but the promise text cannot parse as a checkpoint of the log."""
    keys = LogKeys(ORIGIN, SigningKey.generate(ORIGIN))
    with pytest.raises(CheckpointError):
        open_checkpoint(_receipt(keys).promise, ORIGIN, keys.published)


@pytest.mark.parametrize(
    "text",
    [
        f"{HEADER}\n{ORIGIN}\nAAAA\nsalt\n2026-12-07T12:00:00+00:00\n3600\n",  # short hash
        f"{HEADER}\n{ORIGIN}\n{'A' * 43}=\nsalt\n2026-12-07T12:00:00\n3600\n",  # naive time
        f"{HEADER}\n{ORIGIN}\n{'A' * 43}=\nsalt\n2026-12-07T12:00:00+00:00\n0\n",
        f"{HEADER}\n{ORIGIN}\n{'A' * 43}=\nsalt\n2026-12-07T12:00:00+00:00\n",
        f"other\n{ORIGIN}\n{'A' * 43}=\nsalt\n2026-12-07T12:00:00+00:00\n3600\n",
    ],
)
def test_malformed_promises(text: str) -> None:
    with pytest.raises(PromiseError):
        Promise.parse_text(text)


def test_malformed_receipts() -> None:
    with pytest.raises(PromiseError):
        Receipt.from_json("[]")
    with pytest.raises(PromiseError):
        Receipt.from_json('{"leaf": {}, "promise": "x"}')
    keys = LogKeys(ORIGIN, SigningKey.generate(ORIGIN))
    with pytest.raises(PromiseError):
        open_promise("not a note", ORIGIN, keys.published)
    assert isinstance(_receipt(keys).leaf, Leaf)
