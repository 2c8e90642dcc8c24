from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class ReferenceOut(BaseModel):
    """A labelled figure beside the tracked one: not a target, never counted."""

    code: str = Field(examples=["offshore"])
    period: str = Field(examples=["2011-2015"])
    kind: str = Field(examples=["baseline"], description="baseline (the plan's own figure) | actual (published)")
    amount: str
    currency: str
    display: str = Field(examples=["3687亿美元"])
    window_start: date
    window_end: date
    source: str
    note: str | None


class TargetProgressOut(BaseModel):
    code: str
    period: str = Field(examples=["2020"])
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
    status: str = Field(
        examples=["on_track"],
        description="Inside the window: achieved | on_track | behind. After window_end: achieved | missed.",
    )
    events_counted: int = Field(
        description="Counted events (reversals subtract) in the window's years up to as_of's year."
    )
    previous_period_settled: str | None = Field(
        description="Settled in the same dates one year earlier (window start to as_of, both minus a year), "
        "in the target currency; null when the history does not cover that year."
    )
    change: str | None = Field(description="settled - previous_period_settled; null without a previous figure.")
    change_ratio: str | None = Field(
        description="change / previous_period_settled (6 decimals); null without a previous figure or when it is 0."
    )
    references: list[ReferenceOut] = Field(
        description="The catalogue's baseline and published figures for this code, for comparison."
    )


class DistinctVolumeOut(BaseModel):
    """Every event once across all targets: the market-wide volume (never a sum of targets)."""

    currency: str = Field(examples=["CNY"])
    window_start: date
    as_of: date
    amount: str = Field(description="Converted into CNY at read time, each event counted once.")
    amount_plan_unit: str
    by_currency: dict[str, str]
    unconverted: dict[str, str]
    events_counted: int


class ProgressOut(BaseModel):
    as_of: date = Field(description="The requested date (default: today in the business timezone).")
    period: str = Field(description="The target period reported (default: the latest).", examples=["2020"])
    periods: list[str] = Field(description="Every target period of the catalogue, oldest first.")
    timezone: str
    on_track_pace: str
    targets: list[TargetProgressOut]
    distinct_volume: DistinctVolumeOut
