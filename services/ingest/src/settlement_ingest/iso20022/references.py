"""Event ids from ISO 20022 references: one injective, reversible rule.

ISO references are Max35Text: 1 to 35 characters of any kind ("ABC/ABC-13679/2015-09-15",
spaces, non-Latin letters). The event id is the reference percent-encoded: every character
outside the event-id alphabet `A-Z a-z 0-9 . _ : -` (and `%` itself) is written as `%XX` per
byte of its UTF-8 form, upper-case hex. A reference already in the alphabet is its own id,
as before this rule existed, so ids of messages accepted earlier do not change. Injective
(percent-encoding with a fixed safe set is) and reversible (`reference_of`); the longest id
is 35 four-byte characters, 35 * 4 * 3 = 420 characters, plus the reversal suffix.

Which reference: `UETR`, else `EndToEndId` (unless `NOTPROVIDED`), else `TxId`, else
`InstrId`, else (camt.054) the transaction's `AcctSvcrRef`, the entry's `NtryRef`, the
entry's `AcctSvcrRef`. A retried message has the same references, hence the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

# The id alphabet minus nothing: quote() keeps A-Z a-z 0-9 and `safe`; `_.-~` are always
# safe in quote(), so "~" is passed through unless we exclude it, see encode_reference.
_SAFE = ":"
NOT_PROVIDED = "NOTPROVIDED"
REVERSAL_SUFFIX = ":RVSL"


@dataclass(frozen=True, slots=True)
class Reference:
    kind: str  # the ISO element it came from: UETR, EndToEndId, TxId, InstrId, AcctSvcrRef, NtryRef
    value: str  # as the message has it (whitespace at the ends stripped by the reader)


def encode_reference(value: str) -> str:
    """The event id of an ISO reference (see the module doc)."""
    # quote() leaves "~" unescaped (RFC 3986 unreserved); the id alphabet has no "~".
    return quote(value, safe=_SAFE, encoding="utf-8", errors="strict").replace("~", "%7E")


def reference_of(event_id: str) -> str:
    """The inverse of encode_reference (for an id made by it)."""
    return unquote(event_id, encoding="utf-8", errors="strict")


def first_reference(*candidates: tuple[str, str | None]) -> Reference | None:
    """The first present candidate (kind, value); EndToEndId `NOTPROVIDED` does not count."""
    for kind, value in candidates:
        if value is None:
            continue
        if kind == "EndToEndId" and value.upper() == NOT_PROVIDED:
            continue
        return Reference(kind, value)
    return None
