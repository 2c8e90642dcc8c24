"""The value a reader returns for each transaction of a message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from settlement_core.identifiers import UNKNOWN_COUNTRY
from settlement_core.problems import FieldError
from settlement_ingest.iso20022.references import Reference


@dataclass(frozen=True, slots=True)
class Transaction:
    """One transaction of a message, as read: the event fields it gives, and what is wrong
    with it (`errors`, pointers at the event fields)."""

    source: str  # element path inside the message, for the bank's back office
    reference: Reference | None  # the ISO reference the event id is made from
    event_id: str | None
    amount: str | None
    currency: str | None
    value_date: str | None
    direction: str | None
    counterparty_country: str | None  # None: unknown (recorded as UNKNOWN_COUNTRY)
    country_source: str | None  # which resolution step gave the country
    categories: tuple[str, ...]
    uetr: str | None = None
    reverses: str | None = None
    original_ids: tuple[tuple[str, str], ...] = ()  # (ISO element, value) for a status report
    errors: tuple[FieldError, ...] = ()

    def fields(self) -> dict[str, Any]:
        """The event object for validate_event (absent values omitted)."""
        fields: dict[str, Any] = {
            "event_id": self.event_id,
            "amount": self.amount,
            "currency": self.currency,
            "value_date": self.value_date,
            "direction": self.direction,
            "categories": list(self.categories) or None,
        }
        if self.direction is not None:
            fields["counterparty_country"] = self.counterparty_country or UNKNOWN_COUNTRY
        if self.uetr is not None and self.reverses is None:
            fields["uetr"] = self.uetr
        if self.reverses is not None:
            fields["reverses"] = self.reverses
        return {k: v for k, v in fields.items() if v is not None}


@dataclass(frozen=True, slots=True)
class Skipped:
    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class IsoMessage:
    message_type: str  # e.g. "pacs.008.001.08"
    message_id: str | None  # AppHdr BizMsgIdr, else GrpHdr/MsgId
    items: tuple[Transaction, ...]
    skipped: tuple[Skipped, ...]


def amount_text(raw: str) -> str:
    """ISO amounts may carry zero padding ("1000.00" JPY); the value is exact, so drop it
    and let the currency's minor-unit rule judge the significant digits. One home for
    reading an amount's text, so a stricter parser can replace it."""
    if "." in raw:
        raw = raw.rstrip("0").rstrip(".")
    return raw
