"""Outbound shape of a bank's timeliness (docs/api.md, "Timeliness")."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LateByOut(BaseModel):
    working_days: int = Field(description="Working days after the due date")
    events: int


class TimelinessOut(BaseModel):
    bank_id: str
    period: str = Field(description="The calendar month of the events' value dates, YYYY-MM")
    rule: str = Field(description="The event deadline in force (seeds/deadlines.yaml)")
    timezone: str = Field(description="Arrival dates are business dates in this timezone")
    events: int = Field(description="The bank's events (not reversals) with a value date in the month")
    on_time: int
    late: int
    not_assessed: int = Field(description="Due or arrived in a year the working-day calendar does not cover")
    late_share: str = Field(description="late / (on_time + late), 6 decimals")
    max_working_days_late: int
    late_by: list[LateByOut] = Field(description="Late events by working days late, ascending")
