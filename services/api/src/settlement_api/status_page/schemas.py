from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from settlement_api.series.schemas import SeriesOut


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
