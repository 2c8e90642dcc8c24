"""Event ids from a bank's own references, and back: one injective, reversible rule.

ISO 20022 references are Max35Text: 1 to 35 characters of any kind ("ABC/ABC-13679/2015-09-15",
spaces, non-Latin letters), the event-id alphabet is `A-Z a-z 0-9 . _ : -` (plus `%`). The
event id of a reference is the reference percent-encoded: every character outside that
alphabet, and `%` itself, is written as `%XX` per byte of its UTF-8 form, upper-case hex. A
reference already in the alphabet is its own id, so ids made before this rule are unchanged.
Injective (percent-encoding with a fixed safe set is) and reversible (`reference_of`); the
longest id is 35 four-byte characters, 35 * 4 * 3 = 420 characters (events.MAX_EVENT_ID_LENGTH
adds the reversal suffix).
"""

from __future__ import annotations

from urllib.parse import quote, unquote


def encode_reference(value: str) -> str:
    """The event id of a reference (see the module doc)."""
    # quote() keeps A-Z a-z 0-9 "_.-~" and `safe`; "~" is not in the id alphabet.
    return quote(value, safe=":", encoding="utf-8", errors="strict").replace("~", "%7E")


def reference_of(event_id: str) -> str:
    """The reference an event id stands for (the inverse of encode_reference; an id
    without escapes is its own reference)."""
    return unquote(event_id, encoding="utf-8", errors="replace")
