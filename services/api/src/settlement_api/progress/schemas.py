from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class TargetProgressOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    currency: str
    plan_unit: str = Field(examples=["亿元"])
    display: str
    window_start: date
    window_end: date
    as_of: date = Field(description="Requested as_of capped at the window end.")
    target_amount: str
    target_amount_plan_unit: str
    settled: str = Field(
        description="Settled from the window start to as_of, converted into the target currency at read time."
    )
    settled_plan_unit: str
    settled_by_currency: dict[str, str] = Field(
        description="Unconverted original amounts per currency (including any unconverted)."
    )
    unconverted: dict[str, str] = Field(
        description="Amounts with no FX rate on or before their value date; not in `settled`."
    )
    progress_ratio: str
    expected_ratio: str = Field(description="Elapsed fraction of the window's days at as_of.")
    pace: str | None = Field(description="progress_ratio / expected_ratio; null before the window.")
    projected_total: str | None = Field(
        description="Settled / expected_ratio: the window total at the current run rate."
    )
    projected_total_plan_unit: str | None
    status: str = Field(examples=["on_track"], description="achieved | on_track | behind")
    events_counted: int = Field(
        description="Counted events (reversals subtract) in the window's years up to as_of's year."
    )


class ProgressOut(BaseModel):
    as_of: date = Field(description="The requested date (default: today in the business timezone).")
    timezone: str
    on_track_pace: str
    targets: list[TargetProgressOut]
