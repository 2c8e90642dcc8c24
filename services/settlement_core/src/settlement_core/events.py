"""The event contract on the `settlement.events` topic.

Ingest validates a bank's JSON into a `SettlementEvent`, adds the authenticated bank id and
the receive time, and writes `encode(event)` keyed by bank id. The aggregator `decode`s it;
anything undecodable is an invalid message for the DLQ, never a retryable error.

`body_hash` covers exactly the fields the bank controls, so a retried request with the same
body is recognised as a duplicate and a different body under the same id as a conflict.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from settlement_core.categories import Category, Direction
from settlement_core.money import MINOR_UNITS, AmountError, format_amount, parse_amount

SCHEMA_VERSION = 1
# Use these with `fullmatch` (`$` alone also accepts a trailing newline).
EVENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
BANK_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# decode() checks the amount text like intake does, but leaves the size bound to intake.
_NO_BOUND = Decimal("Infinity")


class InvalidEvent(ValueError):
    """A message that can never become a valid event (goes to the DLQ with this reason)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class SettlementEvent:
    bank_id: str
    event_id: str
    category: Category
    amount: Decimal
    currency: str
    value_date: date
    direction: Direction
    counterparty_country: str
    reverses: str | None = None
    uetr: UUID | None = None

    def body(self) -> dict[str, Any]:
        """The bank-controlled fields in canonical form (amount at the currency's scale)."""
        return {
            "event_id": self.event_id,
            "category": self.category.value,
            "amount": format_amount(self.amount, self.currency),
            "currency": self.currency,
            "value_date": self.value_date.isoformat(),
            "direction": self.direction.value,
            "counterparty_country": self.counterparty_country,
            "reverses": self.reverses,
            "uetr": str(self.uetr) if self.uetr else None,
        }

    def body_hash(self) -> str:
        canonical = json.dumps(self.body(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Envelope:
    """What travels on the topic: the event plus intake metadata."""

    event: SettlementEvent
    received_at: datetime


def encode(envelope: Envelope) -> bytes:
    """Serialise for the topic; refuses what `decode` would reject (a naive received_at)."""
    if envelope.received_at.tzinfo is None or envelope.received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    payload = envelope.event.body()
    payload["bank_id"] = envelope.event.bank_id
    payload["received_at"] = envelope.received_at.isoformat()
    payload["v"] = SCHEMA_VERSION
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def _field(data: dict[str, Any], name: str) -> Any:
    if name not in data:
        raise InvalidEvent("schema", f"missing field {name!r}")
    return data[name]


def _text(data: dict[str, Any], name: str) -> str:
    value = _field(data, name)
    if not isinstance(value, str):
        raise InvalidEvent("schema", f"{name} is not a string")
    return value


def _optional_text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidEvent("schema", f"{name} is not a string or null")
    return value


def decode(raw: bytes | None) -> Envelope:
    """Strictly decode a topic message; raises InvalidEvent with a DLQ reason."""
    if raw is None:
        raise InvalidEvent("undecodable", "empty message (tombstone)")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, int too long
        raise InvalidEvent("undecodable", f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidEvent("undecodable", "message is not a JSON object")
    version = data.get("v")
    if type(version) is not int or version != SCHEMA_VERSION:  # True == 1, 1.0 == 1
        raise InvalidEvent("schema", f"unsupported schema version {version!r}")
    try:
        bank_id = _text(data, "bank_id")
        event_id = _text(data, "event_id")
        if not BANK_ID_PATTERN.fullmatch(bank_id):
            raise InvalidEvent("schema", "bad bank_id")
        if not EVENT_ID_PATTERN.fullmatch(event_id):
            raise InvalidEvent("schema", "bad event_id")
        currency = _text(data, "currency")
        if currency not in MINOR_UNITS:
            raise InvalidEvent("schema", f"unknown currency {currency!r}")
        amount = parse_amount(_text(data, "amount"), currency, _NO_BOUND)
        country = _text(data, "counterparty_country")
        if not COUNTRY_PATTERN.fullmatch(country):
            raise InvalidEvent("schema", "bad counterparty_country")
        reverses = _optional_text(data, "reverses")
        if reverses is not None and not EVENT_ID_PATTERN.fullmatch(reverses):
            raise InvalidEvent("schema", "bad reverses")
        uetr = _optional_text(data, "uetr")
        value_date = _text(data, "value_date")
        if not _ISO_DATE.fullmatch(value_date):
            raise InvalidEvent("schema", "value_date is not YYYY-MM-DD")
        event = SettlementEvent(
            bank_id=bank_id,
            event_id=event_id,
            category=Category(_text(data, "category")),
            amount=amount,
            currency=currency,
            value_date=date.fromisoformat(value_date),
            direction=Direction(_text(data, "direction")),
            counterparty_country=country,
            reverses=reverses,
            uetr=UUID(uetr) if uetr is not None else None,
        )
        received_at = datetime.fromisoformat(_text(data, "received_at"))
    except InvalidEvent:
        raise
    except (ValueError, TypeError, ArithmeticError, AmountError) as exc:
        raise InvalidEvent("schema", str(exc)) from None
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise InvalidEvent("schema", "received_at lacks a timezone")
    return Envelope(event=event, received_at=received_at)
