"""Response shapes of the releases slice. Amounts are decimal strings in the target's
currency; a figure withheld by disclosure control is null with `suppressed: true`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

ObservationStatus = Literal["provisional", "final", "revised"]


class ReleaseFigureOut(BaseModel):
    target: str
    currency: str
    window_start: date
    as_of: date = Field(description="The value dates the figure covers end here (the window end once it closed).")
    amount: str | None = Field(description="Exact, rounded once to the currency's minor unit; null when suppressed.")
    events: int | None = Field(description="Events counted in [window_start, as_of] (reversals subtract).")
    suppressed: bool = False
    suppressed_reason: str | None = None


class ReleaseOut(BaseModel):
    id: int
    period: str = Field(examples=["2020"])
    kind: Literal["preliminary", "final"]
    note: str
    known_at: datetime = Field(description="The knowledge time the figures were frozen at: its publication time.")
    rule_set_id: int | None = Field(description="The rule set counted with (rule_sets); null: none recorded.")
    figures: list[ReleaseFigureOut]


class ReleaseSummaryOut(BaseModel):
    id: int
    period: str
    kind: Literal["preliminary", "final"]
    note: str
    known_at: datetime


class ReleasesOut(BaseModel):
    releases: list[ReleaseSummaryOut]


class ChangeOut(BaseModel):
    """Events whose effects were committed after the release, in the figure's value dates."""

    events: int | None
    amount: str | None


class BankChangeOut(BaseModel):
    bank_id: str
    counted: ChangeOut
    reversed: ChangeOut


class ExplanationOut(BaseModel):
    """published + re_derived + counted.amount + reversed.amount + rounding = today."""

    counted: ChangeOut = Field(description="Events counted since the release (additions).")
    reversed: ChangeOut = Field(description="Reversals applied since the release (amount negative).")
    re_derived: str | None = Field(
        description="The release's own events counted again with today's rules and FX table, minus the published "
        "figure (a rule change followed by a rebuild, or a corrected FX rate)."
    )
    rounding: str | None = Field(
        description="What rounding each part once to the minor unit leaves (0 when every amount is in the target "
        "currency)."
    )
    by_bank: list[BankChangeOut] | None = Field(description="Per bank: operators only (null for anyone else).")
    suppressed: bool = False
    suppressed_reason: str | None = None


class RevisionOut(BaseModel):
    target: str
    currency: str
    window_start: date
    as_of: date
    published: str | None
    published_events: int | None
    today: str | None
    today_events: int | None
    difference: str | None
    explained: ExplanationOut
    observation_status: ObservationStatus | None
    suppressed: bool = False
    suppressed_reason: str | None = None


class RevisionsOut(BaseModel):
    release: ReleaseSummaryOut
    known_at: datetime = Field(description="Today's figures are as known at this time (server time).")
    revisions: list[RevisionOut]


class CalendarEntryOut(BaseModel):
    period: str
    kind: Literal["preliminary", "final"]
    due: date
    state: Literal["released", "released_late", "due", "overdue"]
    release_id: int | None
    released_on: date | None


class CalendarOut(BaseModel):
    today: date
    timezone: str
    entries: list[CalendarEntryOut]
