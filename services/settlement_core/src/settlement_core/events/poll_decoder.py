"""Columnar decode of one poll of topic messages (issue 23, step 1).

Every message of a poll is parsed by one typed msgspec decoder straight into the common
shape (no dict per message), and the checks whose answer repeats across a poll (bank id,
counterparty country, received_at, value date, currency, direction) are made once per
distinct value instead of once per message. What comes out for each accepted message is
what `decoder.decode_message` gives: the envelope, the canonical body hash and the minor
units taken from the amount text (no float, no Decimal formatting).

It may only accept what `decoder.decode_strict` accepts, with equal values; anything
unusual (another shape, an extra key, a non-string field, a failed check) is declined and
goes through `decoder.decode_message`, so DLQ reasons and details are the strict ones.
tests/settlement_core/events/test_poll_decoder.py compares the two over random and mutated
messages.

Why msgspec parses only the common keys (`forbid_unknown_fields`): an unknown key would be
skipped unparsed, so a value json.loads refuses there (an integer past its 4300-digit limit,
bytes that are not UTF-8) would be accepted here and refused by the strict path. With no
unknown keys, every byte of an accepted message is a key, a string, null or the version
integer, and for those the two parsers agree (duplicate keys: the last wins in both).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from settlement_core.categories import DIRECTION_BY_VALUE, Direction
from settlement_core.dates import parse_iso_date_or_none
from settlement_core.events.canonical import body_members, hash_of
from settlement_core.events.decoder import decode_message
from settlement_core.events.model import SCHEMA_VERSION, DecodedMessage, InvalidEvent, checked_event, checked_message
from settlement_core.identifiers import BANK_ID_PATTERN, COUNTRY_PATTERN, EVENT_ID_PATTERN
from settlement_core.money import AMOUNT_PATTERN, MINOR_UNITS, AmountError
from settlement_core.vocabulary import DlqReason

# Whole-number digits handled here; 2**63 minor units have 19 digits (as fast_decoder).
_LONGEST_WHOLE = 24


class _Common(msgspec.Struct, forbid_unknown_fields=True):
    """The common topic message: one `category`, every field a string (reverses and uetr
    may be null or absent, as `decode_strict` reads them with `data.get`)."""

    v: int
    bank_id: str
    event_id: str
    category: str
    amount: str
    currency: str
    counterparty_country: str
    direction: str
    value_date: str
    received_at: str
    reverses: str | None = None
    uetr: str | None = None


_DECODER = msgspec.json.Decoder(_Common)


def decode_poll(values: Sequence[bytes | None], known: Collection[str]) -> list[DecodedMessage | InvalidEvent]:
    """For each message of a poll, in order: what `decode_message(value, known)` returns,
    or the InvalidEvent it raises. An AmountError it might raise (it cannot: decode_strict
    turns them into InvalidEvent) becomes InvalidEvent(schema, its text) for that message
    alone, never an exception for the whole poll."""
    poll = PollDecoder(known)
    out: list[DecodedMessage | InvalidEvent] = []
    for value in values:
        decoded = poll.decode_common(value)
        if decoded is None:
            try:
                decoded = decode_message(value, known)
            except InvalidEvent as exc:
                out.append(exc)
                continue
            except AmountError as exc:
                out.append(InvalidEvent(DlqReason.SCHEMA, str(exc)))
                continue
        out.append(decoded)
    return out


class PollDecoder:
    """The checks of one poll, each answer memoised for the poll's distinct values."""

    __slots__ = ("_banks", "_countries", "_known", "_received")

    def __init__(self, known: Collection[str]) -> None:
        self._known = known
        self._banks: dict[str, bool] = {}
        self._countries: dict[str, bool] = {}
        self._received: dict[str, datetime | None] = {}

    def decode_common(self, value: bytes | None) -> DecodedMessage | None:
        """The decoded message, or None unless it has the common shape and passes every
        check `decode_strict` makes (each mirrors one there, as in fast_decoder)."""
        if value is None:
            return None
        try:
            m = _DECODER.decode(value)
        except msgspec.MsgspecError:  # DecodeError and ValidationError: the strict path decides
            return None
        bank_id = m.bank_id
        country = m.counterparty_country
        reverses = m.reverses
        if (
            m.v != SCHEMA_VERSION
            or m.category not in self._known
            or not self._bank_ok(bank_id)
            or not EVENT_ID_PATTERN.fullmatch(m.event_id)
            or not self._country_ok(country)
            or (reverses is not None and not EVENT_ID_PATTERN.fullmatch(reverses))
        ):
            return None
        currency = m.currency
        exponent = MINOR_UNITS.get(currency)
        direction: Direction | None = DIRECTION_BY_VALUE.get(m.direction)
        value_date: date | None = parse_iso_date_or_none(m.value_date)  # memoised across polls
        amount_text = m.amount
        if exponent is None or direction is None or value_date is None or not AMOUNT_PATTERN.fullmatch(amount_text):
            return None
        whole, _, fraction = amount_text.partition(".")
        # Longer than any 64-bit minor-unit amount: left to the strict path (int() of a
        # text of thousands of digits would raise instead of deciding).
        if len(fraction) > exponent or len(whole) > _LONGEST_WHOLE:
            return None
        amount = Decimal(amount_text)
        if not amount > 0:
            return None
        received_at = self._received_at(m.received_at)
        if received_at is None:
            return None
        uetr_text = m.uetr
        if uetr_text is None:
            uetr = None
        else:
            try:
                uetr = UUID(uetr_text)
            except ValueError:
                return None
        # AMOUNT_PATTERN allows no leading zeros and no trailing dot, so the text padded
        # to the currency's scale is exactly format_amount(amount), its digits the minor units.
        padded = fraction.ljust(exponent, "0")
        canonical = whole + "." + padded if exponent else whole
        # Every value above passed the strict decoder's checks: built without the frozen
        # dataclasses' __init__ (model.checked_event), a third of their cost.
        event = checked_event(
            bank_id, m.event_id, (m.category,), amount, currency, value_date, direction, country, reverses, uetr
        )
        return checked_message(
            event, received_at, hash_of("".join(body_members(event, canonical))), int(whole + padded)
        )

    def _bank_ok(self, bank_id: str) -> bool:
        ok = self._banks.get(bank_id)
        if ok is None:
            ok = self._banks[bank_id] = BANK_ID_PATTERN.fullmatch(bank_id) is not None
        return ok

    def _country_ok(self, country: str) -> bool:
        ok = self._countries.get(country)
        if ok is None:
            ok = self._countries[country] = COUNTRY_PATTERN.fullmatch(country) is not None
        return ok

    def _received_at(self, text: str) -> datetime | None:
        """received_at as `decode_strict` reads it, or None where it refuses it. Intake
        stamps one time per request, so a poll carries few distinct texts."""
        if text in self._received:
            return self._received[text]
        try:
            parsed: datetime | None = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None and (parsed.tzinfo is None or parsed.utcoffset() is None):
            parsed = None
        self._received[text] = parsed
        return parsed
