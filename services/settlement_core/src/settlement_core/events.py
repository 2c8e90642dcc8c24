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
from settlement_core.money import MINOR_UNITS, AmountError, format_amount

SCHEMA_VERSION = 1
EVENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
BANK_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")


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
    payload = envelope.event.body()
    payload["bank_id"] = envelope.event.bank_id
    payload["received_at"] = envelope.received_at.isoformat()
    payload["v"] = SCHEMA_VERSION
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def _field(data: dict[str, Any], name: str) -> Any:
    if name not in data:
        raise InvalidEvent("schema", f"missing field {name!r}")
    return data[name]


def decode(raw: bytes | None) -> Envelope:
    """Strictly decode a topic message; raises InvalidEvent with a DLQ reason."""
    if raw is None:
        raise InvalidEvent("undecodable", "empty message (tombstone)")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent("undecodable", f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidEvent("undecodable", "message is not a JSON object")
    if data.get("v") != SCHEMA_VERSION:
        raise InvalidEvent("schema", f"unsupported schema version {data.get('v')!r}")
    try:
        bank_id = str(_field(data, "bank_id"))
        event_id = str(_field(data, "event_id"))
        if not BANK_ID_PATTERN.match(bank_id):
            raise InvalidEvent("schema", "bad bank_id")
        if not EVENT_ID_PATTERN.match(event_id):
            raise InvalidEvent("schema", "bad event_id")
        currency = str(_field(data, "currency"))
        if currency not in MINOR_UNITS:
            raise InvalidEvent("schema", f"unknown currency {currency!r}")
        amount_text = _field(data, "amount")
        if not isinstance(amount_text, str):
            raise InvalidEvent("schema", "amount is not a string")
        amount = Decimal(amount_text)
        if not amount.is_finite() or amount <= 0:
            raise InvalidEvent("schema", "amount must be a positive finite decimal")
        format_amount(amount, currency)
        country = str(_field(data, "counterparty_country"))
        if not COUNTRY_PATTERN.match(country):
            raise InvalidEvent("schema", "bad counterparty_country")
        reverses = data.get("reverses")
        if reverses is not None and not EVENT_ID_PATTERN.match(str(reverses)):
            raise InvalidEvent("schema", "bad reverses")
        uetr = data.get("uetr")
        event = SettlementEvent(
            bank_id=bank_id,
            event_id=event_id,
            category=Category(_field(data, "category")),
            amount=amount,
            currency=currency,
            value_date=date.fromisoformat(str(_field(data, "value_date"))),
            direction=Direction(_field(data, "direction")),
            counterparty_country=country,
            reverses=str(reverses) if reverses is not None else None,
            uetr=UUID(str(uetr)) if uetr else None,
        )
        received_at = datetime.fromisoformat(str(_field(data, "received_at")))
    except InvalidEvent:
        raise
    except (ValueError, TypeError, ArithmeticError, AmountError) as exc:
        raise InvalidEvent("schema", str(exc)) from None
    if received_at.tzinfo is None:
        raise InvalidEvent("schema", "received_at lacks a timezone")
    return Envelope(event=event, received_at=received_at)
