"""The event on the topic: what a bank sent (`SettlementEvent`), what intake adds
(`Envelope`), what the aggregator derives (`DecodedMessage`) and why a message can never be
an event (`InvalidEvent`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from settlement_core.categories import Direction
from settlement_core.events.canonical import body_members, hash_of
from settlement_core.money import format_amount
from settlement_core.vocabulary import DlqReason

SCHEMA_VERSION = 1


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
        return "".join(body_members(self))

    def body_hash(self) -> str:
        return hash_of(self.canonical_fields())


@dataclass(frozen=True, slots=True)
class Envelope:
    """What travels on the topic: the event plus intake metadata."""

    event: SettlementEvent
    received_at: datetime


@dataclass(frozen=True, slots=True)
class DecodedMessage:
    """A decoded topic message with what the aggregator derives from it for every event."""

    envelope: Envelope
    body_hash: str  # == envelope.event.body_hash()
    amount_minor: int  # == money.to_minor(amount, currency)
