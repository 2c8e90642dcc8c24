"""Request and response shapes, for the OpenAPI document at /docs.

Requests are validated by `validation.validate_event` (exact pointers, per-item results in
batches, a specific message for JSON numbers), not by these models; the models describe the
same contract so integrators can generate clients from /openapi.json.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from settlement_core.categories import CATEGORY_CODE_PATTERN, MAX_CATEGORIES, Direction
from settlement_core.corrections import MAX_REASON_TEXT
from settlement_core.dates import ISO_DATE_PATTERN
from settlement_core.identifiers import COUNTRY_PATTERN, EVENT_ID_PATTERN
from settlement_core.money import AMOUNT_PATTERN


def _anchored(pattern: re.Pattern[str]) -> str:
    """A core pattern (used with fullmatch there) as the anchored regex JSON Schema wants."""
    text = pattern.pattern.removeprefix("^").removesuffix("$")
    return f"^{text}$"


_CODES_DOC = "A category code of the catalogue (GET /v1/targets on the API), e.g. cross_border_rmb."


class EventIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "event_id": "CQB-2026-000123",
                    "category": "cross_border_rmb",
                    "amount": "1250000.00",
                    "currency": "CNY",
                    "value_date": "2026-11-30",
                    "direction": "outbound",
                    "counterparty_country": "SG",
                    "uetr": "eb6305c9-1f7f-49de-aed0-16487c27b42d",
                },
                {
                    "event_id": "CQB-2026-000124",
                    "categories": ["cross_border_ecommerce", "cross_border_rmb"],
                    "amount": "100.00",
                    "currency": "CNY",
                    "value_date": "2026-11-30",
                    "direction": "inbound",
                    "counterparty_country": "SG",
                },
            ]
        },
    )

    event_id: str = Field(
        pattern=_anchored(EVENT_ID_PATTERN), description="The bank's own unique id; idempotency key with the bank"
    )
    category: str | None = Field(
        default=None,
        pattern=_anchored(CATEGORY_CODE_PATTERN),
        description=_CODES_DOC + " Means categories: [category]. Send exactly one of category and categories.",
    )
    categories: list[Annotated[str, StringConstraints(pattern=_anchored(CATEGORY_CODE_PATTERN))]] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CATEGORIES,
        json_schema_extra={"uniqueItems": True},
        description=f"1-{MAX_CATEGORIES} distinct category codes; the amount counts in full toward each. " + _CODES_DOC,
    )
    amount: str = Field(
        pattern=_anchored(AMOUNT_PATTERN), description="Decimal string > 0, at most the currency's minor digits"
    )
    currency: str = Field(description="ISO 4217 code from the configured set")
    value_date: str = Field(
        pattern=_anchored(ISO_DATE_PATTERN), description="Settlement date, 2010-01-01 .. today+1 (Asia/Shanghai)"
    )
    direction: Direction
    counterparty_country: str = Field(pattern=_anchored(COUNTRY_PATTERN), description="ISO 3166-1 alpha-2")
    reverses: str | None = Field(
        default=None, pattern=_anchored(EVENT_ID_PATTERN), description="event_id this event negates"
    )
    uetr: str | None = Field(default=None, description="SWIFT UETR (UUID)")
    corrects: str | None = Field(
        default=None,
        pattern=_anchored(EVENT_ID_PATTERN),
        description="event_id of an earlier event of this bank that this event replaces (a correction: the "
        "original is subtracted and this event counted instead). Needs a reason_code; not with reverses.",
    )
    reason_code: str | None = Field(
        default=None,
        description="Why (seeds/correction_reasons.yaml): required with corrects, optional with reverses. "
        "DUPLICATE only with reverses (a duplicate submission is withdrawn, not replaced).",
    )
    reason_text: str | None = Field(
        default=None,
        max_length=MAX_REASON_TEXT,
        description="Free text with a reason_code; required for OTHER. No control characters.",
    )


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=1000)


class LeafOut(BaseModel):
    """The log leaf the receipt commits to (docs/receipts.md)."""

    bank_id: str
    event_id: str
    body_sha256: str
    received_at: str
    salt: str


class ReceiptOut(BaseModel):
    """The log's signed promise to include the event (docs/receipts.md); keep it."""

    leaf: LeafOut
    promise: str = Field(description="signed note: the log will include the leaf within the maximum merge delay")


_RECEIPT = "accepted only, when the log is configured: the signed receipt promise (a repeat has none)"


class Accepted(BaseModel):
    event_id: str
    status: Literal["accepted", "duplicate"]
    duplicate: bool = Field(default=False, description="true when this is a repeat")
    receipt: ReceiptOut | None = Field(default=None, description=_RECEIPT)


class ItemResult(BaseModel):
    index: int
    event_id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    duplicate: bool | None = None
    problem: dict[str, Any] | None = Field(default=None, description="RFC 9457 problem when rejected")
    source: str | None = Field(default=None, description="ISO 20022: element path of the item")
    receipt: ReceiptOut | None = Field(default=None, description=_RECEIPT)


class SkippedEntry(BaseModel):
    source: str
    reason: str


class BatchOut(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    results: list[ItemResult]
    message_type: str | None = Field(default=None, description="ISO 20022 only")
    skipped: list[SkippedEntry] | None = Field(default=None, description="ISO 20022 only")


class ProblemOut(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = None


class Health(BaseModel):
    status: str
    checks: dict[str, str] | None = None
