"""Redis bucket layout shared by the aggregator (writer) and the API (reader).

Every total lives in one Redis hash per Kafka partition, so that one atomic apply of a batch
touches a single Redis Cluster slot (hash tag `{stl:p<N>}`); readers sum across partitions.

Keys (prefix `stl:`):
  stl:{stl:p<N>}:t       HASH  bucket field -> signed integer minor units (or a count)
  stl:{stl:p<N>}:fence   STRING last Kafka offset of partition N whose effects are applied
  stl:{stl:p<N>}:seen    SET   "<category>|<currency>" pairs and "bank|<bank_id>" members
  stl:{stl:p<N>}:at      STRING unix time of the last apply (operations only)
  stl:partitions         SET   partitions that have ever been applied (for readers)

Bucket fields (amounts in the event currency's minor units; dates are value dates):
  c|<cat>|<cur>|d|YYYY-MM-DD   c|<cat>|<cur>|m|YYYY-MM   c|<cat>|<cur>|y|YYYY
  b|<bank>|<cat>|<cur>|d|...   b|<bank>|<cat>|<cur>|m|... b|<bank>|<cat>|<cur>|y|...
  r|<direction>|<cat>|<cur>|y|YYYY       per direction and year
  k|<country>|<cat>|<cur>|y|YYYY         per counterparty country and year
  h|<cat>|<cur>|YYYYMMDDHH               by processing hour (UTC), for rolling 24h/7d/30d
  n|<cat>|y|YYYY                         number of counted events (reversals subtract)
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

PREFIX = "stl:"
PARTITIONS_KEY = "stl:partitions"


def partition_tag(partition: int) -> str:
    return "{stl:p" + str(partition) + "}"


def totals_key(partition: int) -> str:
    return f"stl:{partition_tag(partition)}:t"


def fence_key(partition: int) -> str:
    return f"stl:{partition_tag(partition)}:fence"


def seen_key(partition: int) -> str:
    return f"stl:{partition_tag(partition)}:seen"


def applied_at_key(partition: int) -> str:
    return f"stl:{partition_tag(partition)}:at"


class Granularity(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


_GRAIN_CODE = {Granularity.DAY: "d", Granularity.MONTH: "m", Granularity.YEAR: "y"}


def period_label(day: date, grain: Granularity) -> str:
    if grain is Granularity.DAY:
        return day.isoformat()
    if grain is Granularity.MONTH:
        return f"{day.year:04d}-{day.month:02d}"
    return f"{day.year:04d}"


@dataclass(frozen=True, slots=True)
class Period:
    """One bucket period: a whole day, month or year starting at `start`."""

    grain: Granularity
    start: date

    def __post_init__(self) -> None:
        if self.grain is Granularity.MONTH and self.start.day != 1:
            raise ValueError(f"a month period starts on day 1, not {self.start}")
        if self.grain is Granularity.YEAR and (self.start.month, self.start.day) != (1, 1):
            raise ValueError(f"a year period starts on January 1, not {self.start}")

    @property
    def end(self) -> date:
        if self.grain is Granularity.DAY:
            return self.start
        if self.grain is Granularity.MONTH:
            last = calendar.monthrange(self.start.year, self.start.month)[1]
            return self.start.replace(day=last)
        return self.start.replace(month=12, day=31)

    @property
    def label(self) -> str:
        return period_label(self.start, self.grain)


def category_field(category: str, currency: str, period: Period) -> str:
    return f"c|{category}|{currency}|{_GRAIN_CODE[period.grain]}|{period.label}"


def bank_field(bank_id: str, category: str, currency: str, period: Period) -> str:
    return f"b|{bank_id}|{category}|{currency}|{_GRAIN_CODE[period.grain]}|{period.label}"


def direction_field(direction: str, category: str, currency: str, year: int) -> str:
    return f"r|{direction}|{category}|{currency}|y|{year:04d}"


def country_field(country: str, category: str, currency: str, year: int) -> str:
    return f"k|{country}|{category}|{currency}|y|{year:04d}"


def hour_field(category: str, currency: str, at: datetime) -> str:
    """The UTC processing hour; an aware `at` is converted to UTC, a naive one is taken as UTC."""
    if at.tzinfo is not None and at.utcoffset() is not None:
        at = at.astimezone(UTC)
    return f"h|{category}|{currency}|{at:%Y%m%d%H}"


def count_field(category: str, year: int) -> str:
    return f"n|{category}|y|{year:04d}"


def seen_member(category: str, currency: str) -> str:
    return f"{category}|{currency}"


def bank_member(bank_id: str) -> str:
    return f"bank|{bank_id}"


def periods_of(day: date) -> tuple[Period, Period, Period]:
    return (
        Period(Granularity.DAY, day),
        Period(Granularity.MONTH, day.replace(day=1)),
        Period(Granularity.YEAR, day.replace(month=1, day=1)),
    )


@dataclass(frozen=True, slots=True)
class Effect:
    """One signed change to the totals, journalled in the ledger with its source offset.

    A counted event is +amount; a reversal matched to its original is -amount with the
    original's attributes. Replaying effects in offset order reproduces every bucket.
    """

    partition: int
    offset: int
    bank_id: str
    event_id: str
    category: str
    value_date: date
    currency: str
    direction: str
    country: str
    amount_minor: int
    processed_at: datetime


@dataclass(frozen=True, slots=True)
class Increments:
    """Aggregated bucket increments for one partition, ready for one atomic apply."""

    fields: dict[str, int]
    seen: frozenset[str]


def increments_for(effects: Iterable[Effect]) -> Increments:
    fields: dict[str, int] = defaultdict(int)
    seen: set[str] = set()
    for e in effects:
        sign = (e.amount_minor > 0) - (e.amount_minor < 0)  # a zero effect counts nothing
        for period in periods_of(e.value_date):
            fields[category_field(e.category, e.currency, period)] += e.amount_minor
            fields[bank_field(e.bank_id, e.category, e.currency, period)] += e.amount_minor
        year = e.value_date.year
        fields[direction_field(e.direction, e.category, e.currency, year)] += e.amount_minor
        fields[country_field(e.country, e.category, e.currency, year)] += e.amount_minor
        fields[hour_field(e.category, e.currency, e.processed_at)] += e.amount_minor
        fields[count_field(e.category, year)] += sign
        seen.add(seen_member(e.category, e.currency))
        seen.add(bank_member(e.bank_id))
    return Increments(fields={k: v for k, v in fields.items() if v != 0}, seen=frozenset(seen))


def cover(start: date, end: date) -> list[Period]:
    """The fewest whole day/month/year periods that exactly tile [start, end]."""
    if end < start:
        return []
    periods: list[Period] = []
    day = start
    while day <= end:
        year_end = day.replace(month=12, day=31)
        month_end = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        if day.month == 1 and day.day == 1 and year_end <= end:
            period = Period(Granularity.YEAR, day)
        elif day.day == 1 and month_end <= end:
            period = Period(Granularity.MONTH, day)
        else:
            period = Period(Granularity.DAY, day)
        periods.append(period)
        if period.end >= end:  # also avoids stepping past date.max
            break
        day = period.end + timedelta(days=1)
    return periods


def series_periods(start: date, end: date, grain: Granularity) -> list[tuple[date, date]]:
    """Consecutive points of a time series, each clipped to [start, end]."""
    points: list[tuple[date, date]] = []
    day = start
    while day <= end:
        if grain is Granularity.DAY:
            point_end = day
        elif grain is Granularity.MONTH:
            point_end = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        else:
            point_end = day.replace(month=12, day=31)
        point_end = min(point_end, end)
        points.append((day, point_end))
        if point_end >= end:  # also avoids stepping past date.max
            break
        day = point_end + timedelta(days=1)
    return points
