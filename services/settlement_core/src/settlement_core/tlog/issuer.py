"""The receipt issuer ingest holds: signs the log's promise for each accepted event.

One object per process, built from ReceiptSettings (the log's origin, signing key, salt key
and maximum merge delay). The promise commits to the leaf the integrator will append for the
ledger row of this event: same bank, event id, body hash and received_at (the envelope's
time, which the aggregator stores as ingested_at), and the same derived salt.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from settlement_client.tlog.promise import Receipt
from settlement_core.tlog.keys import LogKeys
from settlement_core.tlog.settings import ReceiptSettings
from settlement_core.tlog.signing import issue_receipt


@dataclass(frozen=True, slots=True)
class ReceiptIssuer:
    keys: LogKeys
    salt_key: bytes
    max_merge_delay_s: int

    @classmethod
    def from_settings(cls, settings: ReceiptSettings) -> ReceiptIssuer:
        return cls(settings.keys(), settings.salt_key(), settings.tlog_max_merge_delay_s)

    @classmethod
    def from_env(cls) -> ReceiptIssuer | None:
        """None when no TLOG_SIGNING_KEY is configured (answers then carry no receipt)."""
        if not os.environ.get("TLOG_SIGNING_KEY"):
            return None
        return cls.from_settings(ReceiptSettings())

    def issue(self, *, bank_id: str, event_id: str, body_sha256: str, received_at: datetime) -> Receipt:
        return issue_receipt(
            self.keys,
            self.salt_key,
            bank_id=bank_id,
            event_id=event_id,
            body_sha256=body_sha256,
            received_at=received_at,
            max_merge_delay_s=self.max_merge_delay_s,
        )


def receipt_json(receipt: Receipt) -> dict[str, Any]:
    """The receipt as it appears in an answer: what `Receipt.to_json` writes, as an object."""
    return {"leaf": receipt.leaf.as_json(), "promise": receipt.promise}
