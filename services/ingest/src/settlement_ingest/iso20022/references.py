"""Which ISO 20022 reference a transaction's event id is made from.

`UETR`, else `EndToEndId` (unless `NOTPROVIDED`), else `TxId`, else `InstrId`, else
(camt.054) the transaction's `AcctSvcrRef`, the entry's `NtryRef`, the entry's `AcctSvcrRef`.
The id is settlement_core.references.encode_reference of it (percent-encoding outside the
id alphabet), so a retried message has the same references, hence the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from settlement_core.references import encode_reference, reference_of

__all__ = ["NOT_PROVIDED", "REVERSAL_SUFFIX", "Reference", "encode_reference", "first_reference", "reference_of"]
NOT_PROVIDED = "NOTPROVIDED"
REVERSAL_SUFFIX = ":RVSL"


@dataclass(frozen=True, slots=True)
class Reference:
    kind: str  # the ISO element it came from: UETR, EndToEndId, TxId, InstrId, AcctSvcrRef, NtryRef
    value: str  # as the message has it (whitespace at the ends stripped by the reader)


def first_reference(*candidates: tuple[str, str | None]) -> Reference | None:
    """The first present candidate (kind, value); EndToEndId `NOTPROVIDED` does not count."""
    for kind, value in candidates:
        if value is None:
            continue
        if kind == "EndToEndId" and value.upper() == NOT_PROVIDED:
            continue
        return Reference(kind, value)
    return None
