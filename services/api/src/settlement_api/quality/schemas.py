"""Outbound shapes of the data-quality score (docs/api.md, "Data-quality score")."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ComponentOut(BaseModel):
    name: str
    description: str
    weight: int
    measure: str = Field(description="The rate or share (6 decimals), state or day count the component scores")
    score: str = Field(description="0..1, 6 decimals")
    points: str = Field(description="weight x score, 2 decimals")


class QualityOut(BaseModel):
    bank_id: str
    period: str = Field(description="YYYY-MM")
    score: str = Field(description="0-100, 2 decimals: the sum of the components' exact points")
    alert_below: int
    components: list[ComponentOut]


class LeagueRowOut(BaseModel):
    bank_id: str
    name: str
    score: str
    below_alert: bool


class LeagueOut(BaseModel):
    period: str
    alert_below: int
    banks: list[LeagueRowOut] = Field(description="Every active bank, lowest score first")
