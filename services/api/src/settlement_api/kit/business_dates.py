"""The business date of a stored instant, computed by PostgreSQL: the SQL side of
settlement_core.business_days.business_date, for statements that group or filter by it."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date, cast, func
from sqlalchemy.sql.elements import ColumnElement


def business_date_of(instant: Any, timezone: str) -> ColumnElement[date]:
    """timezone(zone, timestamptz) is the wall-clock time there; its date is the business date."""
    return cast(func.timezone(timezone, instant), Date)
