"""Response shapes of the progress slice: the catalogue, progress, the series and the status
page's JSON. Figures are decimal strings; `status` is settlement_core.pace's PaceStatus, or
"suppressed" when disclosure control withholds the figure it is judged on."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Final, Literal

from pydantic import BaseModel, Field, WithJsonSchema

from settlement_core.pace import PaceStatus

SUPPRESSED: Final = "suppressed"
# One string enum in the document (pace's values and "suppressed"), not an anyOf.
FigureStatus = Annotated[
    PaceStatus | Literal["suppressed"],
    WithJsonSchema({"type": "string", "enum": [*(s.value for s in PaceStatus), SUPPRESSED]}),
]
STATUS_DESCRIPTION = (
    "Inside the window: achieved | on_track | behind. After window_end: achieved | missed. "
    "suppressed when the settled figure is."
)


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
    settled: str | None = Field(
        description="Settled from the window start to as_of, converted into the target currency at read time; "
        "null when suppressed (disclosure control)."
    )
    settled_plan_unit: str | None
    settled_by_currency: dict[str, str] = Field(
        description="Unconverted original amounts per currency (including any unconverted)."
    )
    unconverted: dict[str, str] = Field(
        description="Amounts with no FX rate on or before their value date; not in `settled`."
    )
    progress_ratio: str | None
    expected_ratio: str = Field(description="Elapsed fraction of the window's days at as_of.")
    pace: str | None = Field(description="progress_ratio / expected_ratio; null before the window.")
    projected_total: str | None = Field(
        description="Settled / expected_ratio: the window total at the current run rate."
    )
    projected_total_plan_unit: str | None
    status: FigureStatus = Field(examples=["on_track"], description=STATUS_DESCRIPTION)
    events_counted: int | None = Field(
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
    suppressed: bool = Field(
        default=False,
        description="Disclosure control: the settled figure (and all derived from it) is withheld because fewer "
        "than MIN_CONTRIBUTORS banks contributed to it. Never for operators.",
    )
    suppressed_reason: str | None = Field(default=None, examples=["fewer than 3 contributing banks"])
    breakdown_suppressed: bool = Field(
        default=False,
        description="settled_by_currency and unconverted are withheld ({}): a currency in them has fewer than "
        "MIN_CONTRIBUTORS banks.",
    )
    previous_suppressed: bool = Field(
        default=False,
        description="previous_period_settled (and change) withheld: fewer than MIN_CONTRIBUTORS banks then.",
    )
    observation_status: Literal["provisional", "final", "revised"] | None = Field(
        default=None,
        description="The figure's status as an observation (docs/statistics.md, releases): provisional before its "
        "period's final release; final when it equals that release's figure at the release's as_of; revised when "
        "it changed since. null when as_of differs from the final release's (not a published observation) or the "
        "figure is suppressed.",
    )
    final_release_id: int | None = Field(default=None, description="The final release compared with, if any.")


class DistinctVolumeOut(BaseModel):
    """Every event once across all targets: the market-wide volume (never a sum of targets)."""

    currency: str = Field(examples=["CNY"])
    window_start: date
    as_of: date
    amount: str | None = Field(
        description="Converted into CNY at read time, each event counted once; null when suppressed."
    )
    amount_plan_unit: str | None
    by_currency: dict[str, str]
    unconverted: dict[str, str]
    events_counted: int | None
    suppressed: bool = False
    suppressed_reason: str | None = None
    breakdown_suppressed: bool = False


class ProgressOut(BaseModel):
    as_of: date = Field(description="The requested date (default: today in the business timezone).")
    period: str = Field(description="The target period reported (default: the latest).", examples=["2020"])
    periods: list[str] = Field(description="Every target period of the catalogue, oldest first.")
    timezone: str
    on_track_pace: str
    targets: list[TargetProgressOut]
    distinct_volume: DistinctVolumeOut
    known_at: datetime | None = Field(
        default=None,
        description="The knowledge time the figures are as known at (RFC 3339); null: now, from the projection.",
    )


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
        "fewer than MIN_CONTRIBUTORS banks contributed to it, or because with the other figures shown it would give "
        "such a figure away by subtraction (secondary suppression; `suppressed_reason` says which). Never for "
        "operators.",
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
    status: FigureStatus = Field(description=STATUS_DESCRIPTION)
    points: list[SeriesPointOut]
    suppressed: bool = Field(
        default=False, description="The figure at as_of (and what derives from it) is withheld (disclosure control)."
    )
    suppressed_reason: str | None = None
    breakdown_suppressed: bool = Field(
        default=False, description="`unconverted` withheld ({}): a currency in it has few contributing banks."
    )


class Window(BaseModel):
    start: date
    end: date
    days: int


class TargetOut(BaseModel):
    code: str = Field(examples=["cross_border_rmb"])
    period: str = Field(examples=["2020"])
    name_zh: str
    name_en: str
    currency: str = Field(examples=["CNY"])
    amount: str = Field(description="Target in the currency's units, a decimal string.", examples=["600000000000.00"])
    amount_plan_unit: str = Field(examples=["6000.0000"])
    plan_unit: str = Field(examples=["亿元"])
    display: str = Field(examples=["6000亿元"])
    window: Window
    source: str


class CategoryOut(BaseModel):
    code: str
    name_zh: str
    name_en: str


class RuleWhenOut(BaseModel):
    categories: list[str] = Field(description="The event declares any of these.")
    currencies: list[str] | None = Field(description="The event's currency is one of these (null: any).")
    counterparty: str | None = Field(description="foreign | domestic relative to home_country (null: any).")
    direction: str | None


class RuleOut(BaseModel):
    id: str
    target: str = Field(description="The category the rule adds to matching events (or guards, for refuse).")
    action: str = Field(description="add: also counts toward target | refuse: rejected at intake (422)")
    when: RuleWhenOut
    enabled: bool
    source: str
    field: str | None = Field(description="refuse: the event field the 422 points at")
    message: str | None = Field(description="refuse: what the bank is told")


class TargetsOut(BaseModel):
    targets: list[TargetOut] = Field(description="Every target of every period. Never add them up across codes.")
    periods: list[str] = Field(description="Target periods, oldest first.")
    latest_period: str
    home_country: str
    categories: list[CategoryOut]
    rules: list[RuleOut]
    references: list[ReferenceOut] = Field(description="Labelled baseline and published figures; not targets.")


class TargetSeriesOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    day: SeriesOut
    month: SeriesOut


class StatusSeriesOut(BaseModel):
    as_of: date
    today: date
    timezone: str
    targets: list[TargetSeriesOut]
