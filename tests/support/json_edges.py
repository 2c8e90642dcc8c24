"""Hostile and unusual JSON bytes for the differential tests of the fast decoders.

Two fast paths parse JSON with msgspec and must decide exactly as a strict `json.loads` path
does: ingest's request bodies (settlement_ingest.fast_validation) and the aggregator's Kafka
messages (settlement_core.events.poll_decoder). Where the parsers differ is the same for both
(byte order marks, UTF-16, int()'s digit limit, recursion depth, surrogates, duplicate keys,
non-finite numbers), so the edge cases and the byte-level edits live here once.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# Bytes that change a token's meaning when inserted or substituted: quotes, escapes,
# separators and brackets, digits and signs, letters, NUL and a byte that is never UTF-8.
EDIT_CHUNKS = (
    *(b'"', b"\\", b",", b":", b"[", b"]", b"{", b"}"),
    *(b"0", b"9", b".", b"-", b"a", b"Z", b" ", b"\x00", b"\xff"),
)


def parser_edges(good: bytes, *, extra: str, other_category: str) -> list[bytes]:
    """Variants of `good` (a JSON object) on which json.loads and msgspec could disagree.
    `extra` names a member the decoder ignores, `other_category` a valid category other
    than the one in `good` (a duplicate key: the last one wins in both parsers)."""
    members = good[1:-1]
    ignored = extra.encode()
    return [
        b"",
        b"   ",
        b"null",
        b"[]",
        b"{}",
        good + b"x",
        good + b"\x00",
        b" \r\n" + good + b"\t ",
        b"\xef\xbb\xbf" + good,  # a BOM: json.loads reads it, msgspec does not
        good.decode().encode("utf-16"),  # json.loads detects UTF-16
        b'{"' + ignored + b'":1' + b"0" * 5000 + b"," + members + b"}",  # past int()'s digit limit
        b'{"' + ignored + b'":"\xff",' + members + b"}",  # not UTF-8, in a key msgspec would skip
        b'{"' + ignored + b'":"\xed\xa0\x80",' + members + b"}",  # an encoded surrogate
        # deeper than json's recursion limit
        b'{"' + ignored + b'":' + b"[" * 100_000 + b"]" * 100_000 + b"," + members + b"}",
        b'{"category":"\\ud800",' + members + b"}",  # a lone surrogate, before the real code
        b"{" + members + b',"category":"\\ud800"}',
        b"{" + members + b',"category":"' + other_category.encode() + b'"}',
        b'{"amount":"1.001",' + members + b"}",
        b"{" + members + b',"amount":"1.001"}',
        b"{" + members + b',"amount":NaN}',
        b"{" + members + b',"amount":12.5}',
        # UUID() lets int() strip whitespace: 31 digits and an escaped tab make a UUID in both
        # paths; a raw tab is a control character both refuse.
        b"{" + members + b',"uetr":"eb6305c91f7f49deaed016487c27b42\\t"}',
        b"{" + members + b',"uetr":"eb6305c91f7f49deaed016487c27b42\t"}',
    ]


def edited(data: Any, body: bytes) -> bytes:
    """`body` with one to four byte-level edits (deletions, insertions, replacements) drawn
    from hypothesis's `st.data()`."""
    base = bytearray(body)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(base)))
        op = data.draw(st.sampled_from(["delete", "insert", "replace"]))
        chunk = data.draw(st.sampled_from(EDIT_CHUNKS))
        if op == "delete":
            del base[at : at + data.draw(st.integers(1, 4))]
        elif op == "insert":
            base[at:at] = chunk
        else:
            base[at : at + 1] = chunk
    return bytes(base)
