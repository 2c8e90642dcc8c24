"""The receipt leaf: RFC 8785 bytes, one encoding per leaf, the documented shape only."""

from __future__ import annotations

import hashlib
import json

import pytest
import rfc8785
from hypothesis import example, given
from hypothesis import strategies as st

from settlement_client.tlog.leaf import Leaf, LeafError

LEAF = Leaf("BANK1", "E-1", "ab" * 32, "2026-12-07T12:00:00.123456+00:00", "0f" * 16)


def test_canonical_json_is_sorted_compact_and_hashed_with_the_leaf_prefix() -> None:
    expected = (
        '{"bank_id":"BANK1","body_sha256":"' + "ab" * 32 + '","event_id":"E-1",'
        '"received_at":"2026-12-07T12:00:00.123456+00:00","salt":"' + "0f" * 16 + '"}'
    ).encode()
    assert LEAF.canonical_json() == expected
    assert LEAF.leaf_hash() == hashlib.sha256(b"\x00" + expected).digest()


def test_non_ascii_is_utf8_not_escaped_and_controls_are_escaped() -> None:
    """RFC 8785 3.2.2.2: only the JSON-mandatory escapes; U+2028 stays literal."""
    leaf = Leaf("银行\u2028", "E\x01", "00" * 32, "2026-12-07T12:00:00+00:00", "00" * 16)
    assert '"bank_id":"银行\u2028"'.encode() in leaf.canonical_json()
    assert b'"event_id":"E\\u0001"' in leaf.canonical_json()


# Any text the leaf's own checks accept: every code point, lone surrogates and astral
# characters included (`st.text()` leaves out surrogates), with the characters whose
# escaping matters drawn more often than their share of Unicode.
_ESCAPE_EDGES = "".join(map(chr, range(0x20))) + '"\\/\x7f\u2028\u2029'
_ANY_TEXT = st.text(st.one_of(st.characters(exclude_categories=()), st.sampled_from(_ESCAPE_EDGES)), min_size=1)
_HEX = st.text("0123456789abcdef", min_size=1, max_size=1)


@given(
    _ANY_TEXT,
    _ANY_TEXT,
    st.lists(_HEX, min_size=64, max_size=64).map("".join),
    _ANY_TEXT,
    st.lists(_HEX, min_size=32, max_size=32).map("".join),
)
@example('"\\/\b\f\n\r\t\x00\x1f\x7f', "\u2028\u2029\ufeff", "0" * 64, "\U0001f4b6\U0010ffff", "f" * 32)
@example("\ud800", "E", "0" * 64, "T", "0" * 32)
def test_hand_built_bytes_are_exactly_rfc8785(
    bank_id: str, event_id: str, body_sha256: str, received_at: str, salt: str
) -> None:
    """The leaf writes its RFC 8785 bytes by hand (issue 29: 15 µs per call through the
    rfc8785 package); the package stays the oracle. A text with a lone surrogate has no
    UTF-8 and so no canonical form: both refuse it."""
    members = {
        "bank_id": bank_id,
        "event_id": event_id,
        "body_sha256": body_sha256,
        "received_at": received_at,
        "salt": salt,
    }
    try:
        expected = rfc8785.dumps(members)
    except rfc8785.CanonicalizationError:
        with pytest.raises(LeafError, match="surrogate"):
            Leaf(**members)
        return
    leaf = Leaf(**members)
    assert leaf.canonical_json() == expected
    assert leaf.leaf_hash() == hashlib.sha256(b"\x00" + expected).digest()


@pytest.mark.parametrize("char", [*_ESCAPE_EDGES, "\x80", "\u00e9", "\uffff", "\U0001f4b6"])
def test_each_character_whose_escaping_matters_is_written_as_rfc8785_does(char: str) -> None:
    """One at a time, alone and inside other text: a character left unescaped only when it
    is the sole special one in a text would slip past a test that mixes them."""
    for text in (char, f"a{char}b"):
        leaf = Leaf(text, text, "00" * 32, text, "00" * 16)
        assert leaf.canonical_json() == rfc8785.dumps(leaf.as_json())


def test_the_cached_bytes_are_not_part_of_equality_or_the_shape() -> None:
    import dataclasses

    assert Leaf(**LEAF.as_json()) == LEAF
    assert hash(Leaf(**LEAF.as_json())) == hash(LEAF)
    assert "_canonical" not in repr(LEAF)
    changed = dataclasses.replace(LEAF, event_id="E-2")
    assert changed.canonical_json() == rfc8785.dumps(changed.as_json())
    assert changed.leaf_hash() != LEAF.leaf_hash()


@given(st.text(min_size=1), st.text(min_size=1))
def test_round_trip_through_canonical_json(bank_id: str, event_id: str) -> None:
    leaf = Leaf(bank_id, event_id, "12" * 32, "2026-12-07T12:00:00+00:00", "34" * 16)
    assert Leaf.from_canonical_json(leaf.canonical_json()) == leaf


def test_a_non_canonical_encoding_of_the_same_leaf_is_refused() -> None:
    loose = json.dumps(LEAF.as_json(), indent=1).encode()
    with pytest.raises(LeafError, match="canonical"):
        Leaf.from_canonical_json(loose)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"body_sha256": "AB" * 32}, "body_sha256"),
        ({"body_sha256": "ab" * 31}, "body_sha256"),
        ({"salt": "0f" * 15}, "salt"),
        ({"bank_id": ""}, "bank_id"),
    ],
)
def test_bad_fields_are_refused(change: dict[str, str], message: str) -> None:
    with pytest.raises(LeafError, match=message):
        Leaf(**{**LEAF.as_json(), **change})


def test_from_json_wants_exactly_the_five_members() -> None:
    with pytest.raises(LeafError):
        Leaf.from_json({**LEAF.as_json(), "amount": "1"})
    with pytest.raises(LeafError):
        Leaf.from_json({**LEAF.as_json(), "received_at": 5})


def test_received_at_text_is_one_text_per_instant() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from settlement_client.tlog.leaf import received_at_text

    at = datetime(2026, 12, 7, 12, 0, 0, 5, tzinfo=UTC)
    shanghai = at.astimezone(timezone(timedelta(hours=8)))
    assert received_at_text(at) == received_at_text(shanghai) == "2026-12-07T12:00:00.000005Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        received_at_text(datetime(2026, 12, 7))


def test_leaf_data_with_an_escaped_lone_surrogate_is_refused_as_a_leaf_error() -> None:
    """JSON may spell a lone surrogate (\\ud800); it has no UTF-8, so no canonical form."""
    data = LEAF.canonical_json().replace(b'"BANK1"', b'"\\ud800"')
    with pytest.raises(LeafError, match="surrogate"):
        Leaf.from_canonical_json(data)
