from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class LeagueRowOut(BaseModel):
    rank: int
    bank_id: str
    name: str
    settled: str = Field(description="From the window start to as_of, in the target currency.")
    settled_plan_unit: str
    share: str = Field(description="settled / the sum over banks, 6 decimals (0 when nothing is settled).")
    events: int = Field(description="Events of this target in the window now counted (not reversed).")
    last_event_received: datetime | None = Field(description="Latest ingest time of this bank's events of the target.")


class LeagueTargetOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    currency: str
    plan_unit: str
    as_of: date
    settled: str = Field(description="Sum over banks.")
    settled_plan_unit: str
    banks: list[LeagueRowOut]


class LeagueOut(BaseModel):
    as_of: date
    targets: list[LeagueTargetOut]


class BankCompletenessOut(BaseModel):
    bank_id: str
    name: str
    active: bool
    last_event_received: datetime | None = Field(description="Latest event received (ledger or DLQ).")
    business_days_silent: int | None = Field(
        description="Business days after the last event's business date, up to today; null: never sent."
    )
    silent: bool
    events_in_window: int = Field(description="Ledger rows received in the DLQ-rate window.")
    dlq_in_window: int = Field(description="DLQ entries created in the DLQ-rate window.")
    unknown_country_in_window: int = Field(
        description="Ledger rows received in the window whose counterparty country the message did not name "
        '(counterparty_country "ZZ"): a data-quality signal; such events count only toward declared categories.'
    )
    dlq_rate: str = Field(description="dlq / (events + dlq) in the window, 6 decimals.")
    dlq_rate_high: bool


class CompletenessOut(BaseModel):
    today: date
    timezone: str
    silent_business_days: int
    dlq_rate_threshold: str
    dlq_rate_window_days: int
    silent: list[str] = Field(description="Active banks silent for at least silent_business_days.")
    dlq_rate_high: list[str] = Field(description="Active banks whose DLQ rate is above the threshold.")
    banks: list[BankCompletenessOut]
