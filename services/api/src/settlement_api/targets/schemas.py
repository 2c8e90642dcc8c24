from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from settlement_api.progress.schemas import ReferenceOut


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
