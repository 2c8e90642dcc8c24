"""Request and response shapes, for the OpenAPI document at /docs.

Requests are validated by `validation.validate_event` (exact pointers, per-item results in
batches, a specific message for JSON numbers), not by these models; the models describe the
same contract so integrators can generate clients from /openapi.json.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from settlement_core.categories import Category, Direction


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
                }
            ]
        },
    )

    event_id: str = Field(
        pattern=r"^[A-Za-z0-9._:-]{1,64}$", description="The bank's own unique id; idempotency key with the bank"
    )
    category: Category
    amount: str = Field(
        pattern=r"^(0|[1-9][0-9]*)(\.[0-9]+)?$", description="Decimal string > 0, at most the currency's minor digits"
    )
    currency: str = Field(description="ISO 4217 code from the configured set")
    value_date: str = Field(
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="Settlement date, 2010-01-01 .. today+1 (Asia/Shanghai)"
    )
    direction: Direction
    counterparty_country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    reverses: str | None = Field(default=None, description="event_id this event negates")
    uetr: str | None = Field(default=None, description="SWIFT UETR (UUID)")


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=1000)


class Accepted(BaseModel):
    event_id: str
    status: Literal["accepted", "duplicate"]
    duplicate: bool = Field(default=False, description="true when this is a repeat")


class ItemResult(BaseModel):
    index: int
    event_id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    duplicate: bool | None = None
    problem: dict[str, Any] | None = Field(default=None, description="RFC 9457 problem when rejected")
    source: str | None = Field(default=None, description="ISO 20022: element path of the item")


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
