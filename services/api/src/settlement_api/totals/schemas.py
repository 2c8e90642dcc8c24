from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class AmountOut(BaseModel):
    amount: str = Field(description="Converted into `currency` at read time (decimal string).")
    by_currency: dict[str, str] = Field(description="Original amounts per original currency.")
    unconverted: dict[str, str] = Field(
        description="Original amounts without an FX rate on or before their value date (not in `amount`)."
    )


class PointOut(AmountOut):
    period: str = Field(examples=["2020-03"])
    start: date
    end: date


class TotalsOut(BaseModel):
    category: str | None = Field(
        description="null: every event once across all categories (the distinct volume), never a sum of categories"
    )
    bank_id: str | None
    granularity: str
    currency: str
    start: date
    end: date
    total: AmountOut = Field(description="Sum of the points (each point rounded once).")
    points: list[PointOut]
