"""Inbound and outbound shapes of control totals (docs/api.md, "Control totals")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from settlement_api.kit.months import MONTH_PATTERN

# A bank with every target in every accepted currency has 6 x 7 = 42 lines; 200 leaves room
# for more currencies without letting one body cost unbounded work.
MAX_LINES = 200
# 10^12 events in one month and line is far beyond any bank; the bound keeps the product
# count x max_amount (10^27) inside what the checks compute exactly.
MAX_COUNT = 10**12
# settlement_core.money.AMOUNT_PATTERN, anchored: [0-9] only, no sign, exponent or spaces; 0 allowed.
AMOUNT_PATTERN = "^(0|[1-9][0-9]*)(\\.[0-9]+)?$"
# At least one visible character; no control characters but line feed and tab.
NOTE_PATTERN = "^[^\\x00-\\x08\\x0b-\\x1f\\x7f]*[^\\x00-\\x20\\x7f][^\\x00-\\x08\\x0b-\\x1f\\x7f]*$"


def _whole_number(value: object) -> object:
    """JSON has one number type: 4.0 is the integer 4 (JSON Schema's `integer` says so too);
    4.5, "4" and true stay refused by the strict int."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Count = Annotated[int, BeforeValidator(_whole_number)]


class _In(BaseModel):
    # Strict: "5" is not a count, 5.0 is not a count, an unknown field is a mistake.
    model_config = ConfigDict(extra="forbid", strict=True)


class LineIn(_In):
    target: str = Field(max_length=64, description="A category code of the catalogue (seeds/targets.yaml).")
    currency: str = Field(max_length=8, description="The events' original currency (ISO 4217).")
    # The range is checked with the other rules (service.check_declaration), so a negative
    # count is reported together with every other bad field; the document states it.
    count: Count = Field(
        description="Events of the period in this target and currency.",
        json_schema_extra={"minimum": 0, "maximum": MAX_COUNT},
    )
    amount: str = Field(
        max_length=64,
        json_schema_extra={"pattern": AMOUNT_PATTERN},
        description="Their sum in that currency: a decimal string with at most the currency's decimals.",
    )


class DeclarationIn(_In):
    # One coherent example (the field rules depend on each other: n events sum to at least n
    # minor units), used by the document and by schemathesis' example phase.
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "period": "2020-01",
                    "lines": [{"target": "cross_border_rmb", "currency": "CNY", "count": 4, "amount": "1473.99"}],
                }
            ]
        },
    )

    period: str = Field(
        max_length=16,
        description="The calendar month, YYYY-MM; it must have ended.",
        json_schema_extra={"pattern": MONTH_PATTERN},
    )
    lines: list[LineIn] = Field(
        max_length=MAX_LINES,
        description="One line per (target, currency) the bank had events in; none: no events at all.",
    )


class AcknowledgeIn(_In):
    note: str = Field(
        min_length=1,
        max_length=2000,
        description="Why the break is accepted as it is.",
        json_schema_extra={"pattern": NOTE_PATTERN},
    )

    @field_validator("note")
    @classmethod
    def _readable(cls, note: str) -> str:
        # PostgreSQL text cannot hold U+0000 (a 500 before this check); other control
        # characters but line breaks and tabs have no place in a note either.
        if any((ord(ch) < 32 and ch not in "\n\t") or ord(ch) == 127 for ch in note):
            raise ValueError("control characters are not allowed (line breaks and tabs are)")
        if not any(ord(ch) > 32 and ord(ch) != 127 for ch in note):
            raise ValueError("the note says nothing")
        return note


class FiguresOut(BaseModel):
    count: int
    amount: str = Field(description="At the currency's scale.")


class LineOut(BaseModel):
    target: str
    currency: str
    count: int
    amount: str


class DeclarationOut(BaseModel):
    version: int = Field(description="1 for the first declaration of the period; a changed one is the next.")
    declared_at: datetime
    due: date | None = Field(
        description="The deadline (seeds/deadlines.yaml); null outside the calendar's years or without deadlines."
    )
    working_days_late: int | None = Field(description="0 when on time; null when `due` is.")
    lines: list[LineOut]


class VersionOut(BaseModel):
    version: int
    declared_at: datetime


class ComparisonOut(BaseModel):
    target: str
    currency: str
    declared: FiguresOut
    counted: FiguresOut = Field(description="The bank's counted events in the ledger of record, now.")
    count_difference: int = Field(description="declared - counted")
    amount_difference: str = Field(description="declared - counted, at the currency's scale")
    balanced: bool


class TrailEntryOut(BaseModel):
    at: datetime
    action: str = Field(description="opened | changed | closed | acknowledged")
    actor: str = Field(
        description='"system" (a reconciliation) or "operator:<name>"; a bank reads "operator" without the name'
    )
    note: str = Field(description="The cause (declaration, events) or the operator's note.")
    declaration_version: int
    declared: FiguresOut
    counted: FiguresOut
    counted_through: datetime | None = Field(description="Latest receipt of the counted events then compared.")


class BreakOut(BaseModel):
    id: int
    bank_id: str
    period: str
    target: str
    currency: str
    status: str = Field(description="open | closed (the figures agree again) | acknowledged (by an operator)")
    declared: FiguresOut
    counted: FiguresOut
    count_difference: int = Field(description="declared - counted")
    amount_difference: str = Field(description="declared - counted")
    opened_at: datetime
    resolved_at: datetime | None
    trail: list[TrailEntryOut] = Field(description="Oldest first.")


class ControlTotalsOut(BaseModel):
    bank_id: str
    period: str
    declaration: DeclarationOut = Field(description="The current (latest) version.")
    versions: list[VersionOut] = Field(description="Every version, oldest first.")
    comparison: list[ComparisonOut] = Field(description="Per line either side has, in (target, currency) order.")
    breaks: list[BreakOut] = Field(description="Every break of the period, open or resolved, oldest first.")


class BreakListOut(BaseModel):
    status: str
    breaks: list[BreakOut]


class MissingDeclarationOut(BaseModel):
    bank_id: str
    period: str = Field(description="YYYY-MM")
    due: date | None = Field(description="The due date; null when no deadline or calendar gives one")
    state: Literal["due", "overdue", "no_due_date"]
    working_days_overdue: int = Field(description="Working days after the due date up to today; 0 unless overdue")


class MissingListOut(BaseModel):
    today: date
    timezone: str
    since: str = Field(description="The first month considered, YYYY-MM")
    missing: list[MissingDeclarationOut] = Field(
        description="Control totals owed and not declared: most overdue first, then by bank and month"
    )
