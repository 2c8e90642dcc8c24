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

Categories: an event counts in full toward every category it counts toward (its declared
ones plus those derivation rules add, settlement_core.rules), so its amount is in the
fields of each. The market-wide volume counts it once: under the pseudo-category `*`
(DISTINCT, never a valid code) it adds to c|*|<cur>|d/m/y, b|<bank>|*|<cur>|d/m/y and
n|*|y|YYYY once, whatever the number of its categories. Never sum the per-category fields across categories.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from settlement_core.rules import CountingRules

PREFIX = "stl:"
# The pseudo-category of the distinct (market-wide) volume: every event once.
DISTINCT = "*"
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
    `categories` are the ones the event declared; `increments_for` adds what the rules derive.
    """

    partition: int
    offset: int
    bank_id: str
    event_id: str
    categories: tuple[str, ...]
    value_date: date
    currency: str
    direction: str
    country: str
    amount_minor: int
    processed_at: datetime
    # How many events of the same sign this effect stands for: 1 for a journal row; a
    # knowledge-time read (settlement_api.kit.known_at) sums the ledger's effects per
    # distinct attributes in SQL and counts them here, so its n| counts stay exact.
    events: int = 1


@dataclass(frozen=True, slots=True)
class Increments:
    """Aggregated bucket increments for one partition, ready for one atomic apply."""

    fields: dict[str, int]
    seen: frozenset[str]


def seen_of(
    bank_id: str, categories: tuple[str, ...], currency: str, country: str, direction: str, rules: CountingRules
) -> frozenset[str]:
    """The `seen` members an effect with these attributes adds, whatever its amount, as
    increments_for adds them: each category it counts toward with its currency, the
    DISTINCT pair, and its bank when it counts toward any category."""
    counted = rules.counts_toward(categories, currency, country, direction)
    members = {seen_member(category, currency) for category in counted}
    members.add(seen_member(DISTINCT, currency))
    if counted:
        members.add(bank_member(bank_id))
    return frozenset(members)


def increments_for(effects: Iterable[Effect], rules: CountingRules) -> Increments:
    """Sum a batch of effects into bucket fields (one HINCRBY each) and seen members.

    Each effect counts toward `rules.counts_toward` of its declared categories and fields
    (memoised per distinct input), and once toward DISTINCT.

    This runs for every effect the aggregator applies, so it works in two stages: per
    effect it only adds the amount into dicts keyed by the effect's own attributes (no
    string is built per effect); then it names each distinct key's fields once, rolling
    days up into months and years before naming those (a batch has many distinct
    (bank, category, currency, value day) keys but few months and years of each).
    Sums are exact integers, so summing per distinct key first and per field second gives
    the same totals as summing per field.
    """
    # (bank, category or DISTINCT, currency) -> value day -> amount: the c| and b| fields.
    by_group: defaultdict[tuple[str, str, str], defaultdict[date, int]] = defaultdict(lambda: defaultdict(int))
    # (direction, country, category, currency, year) -> amount / signed count: r|, k|, n|.
    by_year: defaultdict[tuple[str, str, str, str, int], int] = defaultdict(int)
    counts: defaultdict[tuple[str, str, str, str, int], int] = defaultdict(int)
    # (category, currency, processed_at) -> amount: h|.
    by_hour: defaultdict[tuple[str, str, datetime], int] = defaultdict(int)
    distinct_counts: defaultdict[int, int] = defaultdict(int)
    counts_toward = rules.counts_toward
    for e in effects:
        amount = e.amount_minor
        bank = e.bank_id
        currency = e.currency
        day = e.value_date
        # A zero effect counts nothing; a summed one (events > 1) counts each of its events.
        sign = e.events if amount > 0 else -e.events if amount < 0 else 0
        for category in counts_toward(e.categories, currency, e.country, e.direction):
            by_group[(bank, category, currency)][day] += amount
            year_key = (e.direction, e.country, category, currency, day.year)
            by_year[year_key] += amount
            counts[year_key] += sign
            by_hour[(category, currency, e.processed_at)] += amount
        by_group[(bank, DISTINCT, currency)][day] += amount
        distinct_counts[day.year] += sign
    fields: defaultdict[str, int] = defaultdict(int)
    _add_day_fields(fields, by_group)
    _add_year_fields(fields, by_year, counts)
    for (category, currency, at), amount in by_hour.items():
        fields[hour_field(category, currency, at)] += amount
    for year, count in distinct_counts.items():
        fields[count_field(DISTINCT, year)] += count
    seen = {seen_member(category, currency) for _, category, currency in by_group}
    seen.update(bank_member(bank) for bank, category, _ in by_group if category != DISTINCT)
    return Increments(fields={k: v for k, v in fields.items() if v != 0}, seen=frozenset(seen))


def _day_suffixes(day: date) -> tuple[str, str, str]:
    """`|d|YYYY-MM-DD`, `|m|YYYY-MM`, `|y|YYYY`: the same labels as `period_label` (ISO
    dates are zero-padded YYYY-MM-DD), cut from one isoformat() call."""
    iso = day.isoformat()
    return "|d|" + iso, "|m|" + iso[:7], "|y|" + iso[:4]


def _add_day_fields(
    fields: defaultdict[str, int], by_group: dict[tuple[str, str, str], defaultdict[date, int]]
) -> None:
    """The bank_field and category_field names of every period of each group's day sums.

    Each distinct (bank, category, currency, day) names one b| day field; its month and
    year are summed under their label first, and the c| fields are the same sums over
    the banks, so each month, year and c| field is named once per group, not per day."""
    suffixes: dict[date, tuple[str, str, str]] = {}
    # "category|currency" -> label -> amount over every bank: the c| fields.
    by_pair: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (bank, category, currency), days in by_group.items():
        pair = category + "|" + currency
        by_bank = "b|" + bank + "|" + pair
        labelled: defaultdict[str, int] = defaultdict(int)  # this group's month/year sums
        on_pair = by_pair[pair]
        for day, amount in days.items():
            labels = suffixes.get(day)
            if labels is None:
                labels = suffixes[day] = _day_suffixes(day)
            by_day, by_month, by_year = labels
            fields[by_bank + by_day] += amount
            labelled[by_month] += amount
            labelled[by_year] += amount
            on_pair[by_day] += amount
        for label, amount in labelled.items():
            fields[by_bank + label] += amount
            on_pair[label] += amount
    for pair, labelled in by_pair.items():
        by_category = "c|" + pair
        for label, amount in labelled.items():
            fields[by_category + label] += amount


def _add_year_fields(
    fields: defaultdict[str, int],
    by_year: dict[tuple[str, str, str, str, int], int],
    counts: dict[tuple[str, str, str, str, int], int],
) -> None:
    """direction_field, country_field and count_field of each distinct yearly key."""
    for key, amount in by_year.items():
        direction, country, category, currency, year = key
        fields[direction_field(direction, category, currency, year)] += amount
        fields[country_field(country, category, currency, year)] += amount
        fields[count_field(category, year)] += counts[key]


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
