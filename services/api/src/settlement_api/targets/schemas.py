from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Window(BaseModel):
    start: date
    end: date
    days: int


class TargetOut(BaseModel):
    code: str = Field(examples=["cross_border_rmb"])
    name_zh: str
    name_en: str
    currency: str = Field(examples=["CNY"])
    amount: str = Field(description="Target in the currency's units, a decimal string.", examples=["600000000000.00"])
    amount_plan_unit: str = Field(examples=["6000.0000"])
    plan_unit: str = Field(examples=["亿元"])
    display: str = Field(examples=["6000亿元"])
    window: Window
    source: str


class TargetsOut(BaseModel):
    targets: list[TargetOut]
