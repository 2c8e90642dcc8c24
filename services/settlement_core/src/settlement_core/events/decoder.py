"""Strict decoding of topic messages, and the entry points the aggregator calls.

`decode_message` tries the common message's fast path (`fast_decoder`) first; whatever it
declines, every invalid message included, goes through `decode_strict`, so DLQ reasons and
details are always the strict decoder's.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from settlement_core.categories import DIRECTION_BY_VALUE, Direction, check_categories
from settlement_core.corrections import check_shape
from settlement_core.dates import DateFormatError, parse_iso_date
from settlement_core.events.fast_decoder import decode_common
from settlement_core.events.model import SCHEMA_VERSION, DecodedMessage, Envelope, InvalidEvent, SettlementEvent
from settlement_core.identifiers import BANK_ID_PATTERN, COUNTRY_PATTERN, EVENT_ID_PATTERN
from settlement_core.money import MINOR_UNITS, AmountError, parse_amount, to_minor
from settlement_core.vocabulary import DlqReason

# decode() checks the amount text like intake does, but leaves the size bound to intake.
_NO_BOUND = Decimal("Infinity")


def decode(raw: bytes | None, categories: Collection[str]) -> Envelope:
    """Strictly decode a topic message; raises InvalidEvent with a DLQ reason.

    `categories` are the catalogue's codes: an event naming another code is invalid."""
    return decode_message(raw, categories).envelope


def decode_message(raw: bytes | None, categories: Collection[str]) -> DecodedMessage:
    """`decode`, plus the body hash and minor units (raises InvalidEvent like it).

    The common message (one `category`, every field a well-formed string) takes a fast
    path that reuses the validated amount text for the canonical body and the minor units
    instead of formatting the Decimal again; anything else, including every invalid
    message, goes through `decode_strict`, so reasons and details are the strict ones."""
    data = json_object(raw)
    common = decode_common(data, categories)
    if common is not None:
        return common
    envelope = decode_strict(data, categories)
    event = envelope.event
    # parse_amount already refused sub-minor digits, so to_minor cannot raise here.
    return DecodedMessage(envelope, event.body_hash(), to_minor(event.amount, event.currency))


def json_object(raw: bytes | None) -> dict[str, Any]:
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


def decode_strict(data: dict[str, Any], categories: Collection[str]) -> Envelope:
    """Every check of a decoded JSON object, in contract order, naming the first problem.

    The reference: `decode_common` may only accept what this accepts, with equal values."""
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
        corrects = _optional_text(data, "corrects")
        reason_code = _optional_text(data, "reason_code")
        reason_text = _optional_text(data, "reason_text")
        problem = check_shape(event_id, reverses, corrects, reason_code, reason_text)
        if problem is not None:
            raise InvalidEvent(DlqReason.SCHEMA, problem)
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
            corrects=corrects,
            reason_code=reason_code,
            reason_text=reason_text,
        )
        received_at = datetime.fromisoformat(_text(data, "received_at"))
    except InvalidEvent:
        raise
    except (ValueError, TypeError, ArithmeticError, AmountError) as exc:
        raise InvalidEvent(DlqReason.SCHEMA, str(exc)) from None
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise InvalidEvent(DlqReason.SCHEMA, "received_at lacks a timezone")
    return Envelope(event=event, received_at=received_at)


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
