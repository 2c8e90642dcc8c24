from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class SeriesPointOut(BaseModel):
    period: str = Field(examples=["2020-03"])
    start: date
    end: date
    settled: str | None = Field(
        description="Settled in this point (clipped at as_of), in the target currency; null after as_of."
    )
    cumulative: str | None = Field(description="Settled from the window start to the point's end (or as_of).")
    cumulative_plan_unit: str | None
    expected: str = Field(description="Pace line: target x elapsed fraction of the window at the point's end.")
    expected_plan_unit: str
    previous: str | None = Field(
        description="Month granularity: the same month one year earlier (null for day points)."
    )
    suppressed: bool = Field(
        default=False,
        description="Disclosure control: a figure of this point (settled, cumulative or previous) is null because "
        "fewer than MIN_CONTRIBUTORS banks contributed to it. Never for operators.",
    )
    suppressed_reason: str | None = None


class SeriesOut(BaseModel):
    code: str
    period: str = Field(examples=["2020"], description="The year of the target window.")
    granularity: str
    currency: str
    plan_unit: str = Field(examples=["亿元"])
    window_start: date
    window_end: date
    as_of: date = Field(description="The requested as_of (default today), capped at the window end.")
    target_amount: str
    target_amount_plan_unit: str
    settled: str | None = Field(
        description="Cumulative at as_of: the exact sum of the points' `settled`; null when suppressed."
    )
    settled_plan_unit: str | None
    unconverted: dict[str, str] = Field(
        description="Original amounts up to as_of with no FX rate on or before their value date; not in `settled`."
    )
    progress_ratio: str | None
    expected_ratio: str
    pace: str | None
    projected_total: str | None
    projected_total_plan_unit: str | None
    status: str = Field(description="achieved | on_track | behind (settlement_core.pace) | suppressed")
    points: list[SeriesPointOut]
    suppressed: bool = Field(
        default=False, description="The figure at as_of (and what derives from it) is withheld (disclosure control)."
    )
    suppressed_reason: str | None = None
    breakdown_suppressed: bool = Field(
        default=False, description="`unconverted` withheld ({}): a currency in it has few contributing banks."
    )
