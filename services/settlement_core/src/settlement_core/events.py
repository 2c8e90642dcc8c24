"""The event contract on the `settlement.events` topic.

Ingest validates a bank's JSON into a `SettlementEvent`, adds the authenticated bank id and
the receive time, and writes `encode(event)` keyed by bank id. The aggregator `decode`s it;
anything undecodable is an invalid message for the DLQ, never a retryable error.

`body_hash` covers exactly the fields the bank controls, so a retried request with the same
body is recognised as a duplicate and a different body under the same id as a conflict.

Categories: an event carries a set of 1..6 category codes (sorted). The canonical body
writes a one-element set as `"category": code`, exactly as before multi-category events
existed, so the body hash of every single-category event is unchanged; a larger set is
written `"categories": [codes]`. The topic payload follows the same rule.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from json.encoder import encode_basestring_ascii as _json_str
from typing import Any
from uuid import UUID

from settlement_core.categories import DIRECTION_BY_VALUE, Direction, check_categories
from settlement_core.dates import ISO_DATE_PATTERN, DateFormatError, parse_iso_date
from settlement_core.money import AMOUNT_PATTERN, MINOR_UNITS, AmountError, format_amount, parse_amount, to_minor
from settlement_core.vocabulary import DlqReason

SCHEMA_VERSION = 1
# Use these with `fullmatch` (`$` alone also accepts a trailing newline).
# An event id is the bank's own text, or an ISO 20022 reference percent-encoded (any
# Max35Text: 35 characters of up to 4 UTF-8 bytes, each byte "%XX", = 420) with the
# reversal suffix ":RVSL" (settlement_ingest.iso20022.references).
MAX_EVENT_ID_LENGTH = 425
EVENT_ID_ALPHABET = "A-Z a-z 0-9 . _ : - %"
EVENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:%-]{1,425}$")
BANK_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
# The counterparty country when the message names none (an ISO 20022 transfer whose other
# side has no BIC, address, clearing-system id or IBAN): ISO 3166-1 user-assigned "ZZ",
# CLDR's "Unknown Region". No rule that needs a foreign or domestic counterparty matches it.
UNKNOWN_COUNTRY = "ZZ"
# decode() checks the amount text like intake does, but leaves the size bound to intake.
_NO_BOUND = Decimal("Infinity")


class InvalidEvent(ValueError):
    """A message that can never become a valid event (goes to the DLQ with this reason)."""

    def __init__(self, reason: DlqReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class SettlementEvent:
    bank_id: str
    event_id: str
    categories: tuple[str, ...]  # 1..6 distinct codes, sorted (categories.check_categories)
    amount: Decimal
    currency: str
    value_date: date
    direction: Direction
    counterparty_country: str
    reverses: str | None = None
    uetr: UUID | None = None

    def body(self) -> dict[str, Any]:
        """The bank-controlled fields in canonical form (amount at the currency's scale)."""
        body: dict[str, Any] = {
            "event_id": self.event_id,
            "amount": format_amount(self.amount, self.currency),
            "currency": self.currency,
            "value_date": self.value_date.isoformat(),
            "direction": self.direction.value,
            "counterparty_country": self.counterparty_country,
            "reverses": self.reverses,
            "uetr": str(self.uetr) if self.uetr else None,
        }
        if len(self.categories) == 1:
            body["category"] = self.categories[0]
        else:
            body["categories"] = list(self.categories)
        return body

    def canonical_fields(self) -> str:
        """The sorted-key JSON members of `body()` without braces, byte for byte what
        `json.dumps(body(), sort_keys=True, separators=(",", ":"))` writes between them.

        Built by hand because intake and the aggregator do this for every event: the same
        C string escaper json.dumps uses keeps the text identical (a test compares them).
        """
        return "".join(_body_members(self))

    def body_hash(self) -> str:
        return _hash_of(self.canonical_fields())


def _body_members(event: SettlementEvent, amount: str | None = None) -> tuple[str, str, str, str]:
    """The canonical members in four runs, split where the topic payload's extra keys
    (bank_id, received_at, v) fall in sorted order. `amount`: the canonical amount text
    when the caller already has it (it must equal format_amount of the event's amount)."""
    reverses = "null" if event.reverses is None else _json_str(event.reverses)
    uetr = "null" if event.uetr is None else '"' + str(event.uetr) + '"'
    categories = event.categories
    if len(categories) == 1:
        category = ',"category":' + _json_str(categories[0])
    else:  # "categories" sorts before "counterparty_country" like "category" does
        category = ',"categories":[' + ",".join(_json_str(c) for c in categories) + "]"
    return (
        '"amount":' + _json_str(format_amount(event.amount, event.currency) if amount is None else amount),
        category
        + ',"counterparty_country":'
        + _json_str(event.counterparty_country)
        + ',"currency":'
        + _json_str(event.currency)
        + ',"direction":'
        + _json_str(event.direction.value)
        + ',"event_id":'
        + _json_str(event.event_id),
        ',"reverses":' + reverses + ',"uetr":' + uetr,
        ',"value_date":"' + event.value_date.isoformat() + '"',
    )


def _hash_of(canonical_fields: str) -> str:
    return hashlib.sha256(("{" + canonical_fields + "}").encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Envelope:
    """What travels on the topic: the event plus intake metadata."""

    event: SettlementEvent
    received_at: datetime


def encode(envelope: Envelope) -> bytes:
    """Serialise for the topic; refuses what `decode` would reject (a naive received_at)."""
    [(payload, _)] = encode_many([envelope.event], envelope.received_at)
    return payload


def encode_many(events: Iterable[SettlementEvent], received_at: datetime) -> list[tuple[bytes, str]]:
    """(topic payload, body hash) of events received together, from one canonical text
    per event (intake needs both for every event).

    The payload is the body plus bank_id, received_at and v, keys sorted: the same bytes as
    `json.dumps(payload, sort_keys=True, separators=(",", ":"))`.
    """
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    received = ',"received_at":' + _json_str(received_at.isoformat())
    version = ',"v":' + str(SCHEMA_VERSION)
    out = []
    for event in events:
        amount, middle, tail, value_date = _body_members(event)
        payload = f'{{{amount},"bank_id":{_json_str(event.bank_id)}{middle}{received}{tail}{version}{value_date}}}'
        out.append((payload.encode(), _hash_of(amount + middle + tail + value_date)))
    return out


def _field(data: dict[str, Any], name: str) -> Any:
    if name not in data:
        raise InvalidEvent(DlqReason.SCHEMA, f"missing field {name!r}")
    return data[name]


def _text(data: dict[str, Any], name: str) -> str:
    value = _field(data, name)
    if not isinstance(value, str):
        raise InvalidEvent(DlqReason.SCHEMA, f"{name} is not a string")
    return value


def _optional_text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidEvent(DlqReason.SCHEMA, f"{name} is not a string or null")
    return value


def _direction(data: dict[str, Any]) -> Direction:
    value = _text(data, "direction")
    try:
        return DIRECTION_BY_VALUE[value]
    except KeyError:
        raise InvalidEvent(DlqReason.SCHEMA, f"unknown direction {value!r}") from None


def _categories(data: dict[str, Any], known: Collection[str]) -> tuple[str, ...]:
    """The event's categories from `category` (one code) or `categories` (a list), never both."""
    if "category" in data:
        if "categories" in data:
            raise InvalidEvent(DlqReason.SCHEMA, "both category and categories")
        value: object = [_text(data, "category")]
    else:
        value = _field(data, "categories")
    codes, errors = check_categories(value, known)
    if errors:
        where = "" if errors[0].index is None else f"[{errors[0].index}]"
        raise InvalidEvent(DlqReason.SCHEMA, f"categories{where}: {errors[0].message}")
    return codes


@dataclass(frozen=True, slots=True)
class DecodedMessage:
    """A decoded topic message with what the aggregator derives from it for every event."""

    envelope: Envelope
    body_hash: str  # == envelope.event.body_hash()
    amount_minor: int  # == money.to_minor(amount, currency)


def decode(raw: bytes | None, categories: Collection[str]) -> Envelope:
    """Strictly decode a topic message; raises InvalidEvent with a DLQ reason.

    `categories` are the catalogue's codes: an event naming another code is invalid."""
    return decode_message(raw, categories).envelope


def decode_message(raw: bytes | None, categories: Collection[str]) -> DecodedMessage:
    """`decode`, plus the body hash and minor units (raises InvalidEvent like it).

    The common message (one `category`, every field a well-formed string) takes a fast
    path that reuses the validated amount text for the canonical body and the minor units
    instead of formatting the Decimal again; anything else, including every invalid
    message, goes through `_decode_strict`, so reasons and details are the strict ones."""
    data = _json_object(raw)
    common = _decode_common(data, categories)
    if common is not None:
        return common
    envelope = _decode_strict(data, categories)
    event = envelope.event
    # parse_amount already refused sub-minor digits, so to_minor cannot raise here.
    return DecodedMessage(envelope, event.body_hash(), to_minor(event.amount, event.currency))


def _json_object(raw: bytes | None) -> dict[str, Any]:
    """The message's JSON object at our schema version; raises InvalidEvent otherwise."""
    if raw is None:
        raise InvalidEvent(DlqReason.UNDECODABLE, "empty message (tombstone)")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, int too long
        raise InvalidEvent(DlqReason.UNDECODABLE, f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidEvent(DlqReason.UNDECODABLE, "message is not a JSON object")
    version = data.get("v")
    if type(version) is not int or version != SCHEMA_VERSION:  # True == 1, 1.0 == 1
        raise InvalidEvent(DlqReason.SCHEMA, f"unsupported schema version {version!r}")
    return data


# Validated value-date texts are memoised: a batch has few distinct value dates.
# Whole-number digits the fast path handles; 2**63 minor units have 19 digits.
_LONGEST_WHOLE = 24


@lru_cache(maxsize=4096)
def _value_date(text: str) -> date | None:
    """parse_iso_date of `text`, or None where it would raise."""
    if not ISO_DATE_PATTERN.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _decode_common(data: dict[str, Any], known: Collection[str]) -> DecodedMessage | None:
    """The fast path of `decode_message`: None unless the message has the common shape and
    passes every check `_decode_strict` makes (the caller then runs that for the reason).

    Each check below mirrors one of `_decode_strict` (and of parse_amount, parse_iso_date,
    check_categories for a single code); a test compares the two over many messages."""
    get = data.get
    bank_id = get("bank_id")
    event_id = get("event_id")
    category = get("category")
    amount_text = get("amount")
    currency = get("currency")
    country = get("counterparty_country")
    direction_text = get("direction")
    value_date_text = get("value_date")
    received_text = get("received_at")
    reverses = get("reverses")
    uetr_text = get("uetr")
    if (
        type(bank_id) is not str
        or type(event_id) is not str
        or type(category) is not str
        or type(amount_text) is not str
        or type(currency) is not str
        or type(country) is not str
        or type(direction_text) is not str
        or type(value_date_text) is not str
        or type(received_text) is not str
        or (reverses is not None and type(reverses) is not str)
        or (uetr_text is not None and type(uetr_text) is not str)
        or "categories" in data
        or category not in known
        or not BANK_ID_PATTERN.fullmatch(bank_id)
        or not EVENT_ID_PATTERN.fullmatch(event_id)
        or not COUNTRY_PATTERN.fullmatch(country)
        or (reverses is not None and not EVENT_ID_PATTERN.fullmatch(reverses))
    ):
        return None
    exponent = MINOR_UNITS.get(currency)
    direction = DIRECTION_BY_VALUE.get(direction_text)
    value_date = _value_date(value_date_text)
    if exponent is None or direction is None or value_date is None or not AMOUNT_PATTERN.fullmatch(amount_text):
        return None
    whole, _, fraction = amount_text.partition(".")
    # Longer than any 64-bit minor-unit amount: left to the strict path (int() of a text
    # of thousands of digits would raise instead of deciding).
    if len(fraction) > exponent or len(whole) > _LONGEST_WHOLE:
        return None
    amount = Decimal(amount_text)
    if not amount > 0:
        return None
    try:
        uetr = UUID(uetr_text) if uetr_text is not None else None
        received_at = datetime.fromisoformat(received_text)
    except ValueError:
        return None
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        return None
    # AMOUNT_PATTERN allows no leading zeros and no trailing dot, so the text padded to
    # the currency's scale is exactly format_amount(amount) and its digits the minor units.
    padded = fraction.ljust(exponent, "0")
    canonical = whole + "." + padded if exponent else whole
    event = SettlementEvent(
        bank_id=bank_id,
        event_id=event_id,
        categories=(category,),
        amount=amount,
        currency=currency,
        value_date=value_date,
        direction=direction,
        counterparty_country=country,
        reverses=reverses,
        uetr=uetr,
    )
    return DecodedMessage(
        Envelope(event=event, received_at=received_at),
        _hash_of("".join(_body_members(event, canonical))),
        int(whole + padded),
    )


def _decode_strict(data: dict[str, Any], categories: Collection[str]) -> Envelope:
    """Every check of a decoded JSON object, in contract order, naming the first problem.

    The reference: `_decode_common` may only accept what this accepts, with equal values."""
    try:
        bank_id = _text(data, "bank_id")
        event_id = _text(data, "event_id")
        if not BANK_ID_PATTERN.fullmatch(bank_id):
            raise InvalidEvent(DlqReason.SCHEMA, "bad bank_id")
        if not EVENT_ID_PATTERN.fullmatch(event_id):
            raise InvalidEvent(DlqReason.SCHEMA, "bad event_id")
        currency = _text(data, "currency")
        if currency not in MINOR_UNITS:
            raise InvalidEvent(DlqReason.SCHEMA, f"unknown currency {currency!r}")
        amount = parse_amount(_text(data, "amount"), currency, _NO_BOUND)
        country = _text(data, "counterparty_country")
        if not COUNTRY_PATTERN.fullmatch(country):
            raise InvalidEvent(DlqReason.SCHEMA, "bad counterparty_country")
        reverses = _optional_text(data, "reverses")
        if reverses is not None and not EVENT_ID_PATTERN.fullmatch(reverses):
            raise InvalidEvent(DlqReason.SCHEMA, "bad reverses")
        uetr = _optional_text(data, "uetr")
        try:
            value_date = parse_iso_date(_text(data, "value_date"))
        except DateFormatError as exc:
            raise InvalidEvent(DlqReason.SCHEMA, f"value_date {exc}") from None
        event = SettlementEvent(
            bank_id=bank_id,
            event_id=event_id,
            categories=_categories(data, categories),
            amount=amount,
            currency=currency,
            value_date=value_date,
            direction=_direction(data),
            counterparty_country=country,
            reverses=reverses,
            uetr=UUID(uetr) if uetr is not None else None,
        )
        received_at = datetime.fromisoformat(_text(data, "received_at"))
    except InvalidEvent:
        raise
    except (ValueError, TypeError, ArithmeticError, AmountError) as exc:
        raise InvalidEvent(DlqReason.SCHEMA, str(exc)) from None
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise InvalidEvent(DlqReason.SCHEMA, "received_at lacks a timezone")
    return Envelope(event=event, received_at=received_at)
