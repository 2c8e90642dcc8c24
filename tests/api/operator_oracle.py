"""An independent computation of what the operator view must show, from the posted events.

It does not use the API's read model or settlement_core.fx: conversion is done here from the
rows of seeds/fx_rates.csv (CNY per unit, a rate valid from its date until the next row),
sums are exact Decimals rounded once half-even, business days are counted day by day on
the `holidays` package's Chinese calendar (another source than the API's), Monday to Friday
where the API's calendar has no notice for the year (its documented fallback).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from zoneinfo import ZoneInfo

import holidays

from settlement_core.business_days import FIRST_YEAR, LAST_YEAR
from tests.api.ledger_state import Event
from tests.conftest import ROOT

CENT = Decimal("0.01")
WINDOW = (date(2020, 1, 1), date(2020, 12, 31))
TARGET_CURRENCY = {"offshore": "USD"}  # every other target is in CNY


def fx_rows() -> dict[str, list[tuple[date, Decimal]]]:
    rows: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    with (ROOT / "seeds" / "fx_rates.csv").open() as handle:
        lines = [line for line in handle if not line.startswith("#")]
    for row in csv.DictReader(lines):
        rows[row["currency"]].append((date.fromisoformat(row["valid_from"]), Decimal(row["cny_per_unit"])))
    return {c: sorted(r) for c, r in rows.items()}


RATES = fx_rows()


def cny_per_unit(currency: str, day: date) -> Decimal:
    if currency == "CNY":
        return Decimal(1)
    applicable = [rate for start, rate in RATES[currency] if start <= day]
    assert applicable, f"no {currency} rate on {day}"
    return applicable[-1]


def converted_exact(event: Event, target_currency: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 50
        return (
            event.amount
            * cny_per_unit(event.currency, event.value_date)
            / cny_per_unit(target_currency, event.value_date)
        )


def rounded(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Posted:
    """Events as posted, and which of them were later reversed."""

    events: tuple[Event, ...]
    reversed_ids: frozenset[tuple[str, str]]

    def counted(self) -> list[Event]:
        return [e for e in self.events if (e.bank_id, e.event_id) not in self.reversed_ids]


def day_series(posted: Posted, code: str, as_of: date) -> list[tuple[date, Decimal | None, Decimal | None]]:
    """(day, settled that day, cumulative) for every day of 2020; None after as_of."""
    currency = TARGET_CURRENCY.get(code, "CNY")
    per_day: dict[date, Decimal] = defaultdict(Decimal)
    for e in posted.counted():
        if e.category == code:
            per_day[e.value_date] += converted_exact(e, currency)
    out: list[tuple[date, Decimal | None, Decimal | None]] = []
    cumulative = Decimal(0)
    day = WINDOW[0]
    while day <= WINDOW[1]:
        if day <= as_of:
            settled = rounded(per_day.get(day, Decimal(0)))
            cumulative += settled
            out.append((day, settled, cumulative))
        else:
            out.append((day, None, None))
        day += timedelta(days=1)
    return out


def month_settled(posted: Posted, code: str, year: int, month: int, until: date | None = None) -> Decimal:
    currency = TARGET_CURRENCY.get(code, "CNY")
    total = sum(
        (
            converted_exact(e, currency)
            for e in posted.counted()
            if e.category == code
            and (e.value_date.year, e.value_date.month) == (year, month)
            and (until is None or e.value_date <= until)
        ),
        Decimal(0),
    )
    return rounded(total)


@dataclass(frozen=True, slots=True)
class LeagueEntry:
    settled: Decimal
    events: int
    last_received: datetime


def league(posted: Posted, code: str, as_of: date) -> dict[str, LeagueEntry]:
    currency = TARGET_CURRENCY.get(code, "CNY")
    exact: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    last: dict[str, datetime] = {}
    for e in posted.events:
        if e.category != code or not WINDOW[0] <= e.value_date <= min(as_of, WINDOW[1]):
            continue
        last[e.bank_id] = max(last.get(e.bank_id, e.processed_at), e.processed_at)
        if (e.bank_id, e.event_id) not in posted.reversed_ids:
            exact[e.bank_id] += converted_exact(e, currency)
            counts[e.bank_id] += 1
    return {bank: LeagueEntry(rounded(exact[bank]), counts[bank], last[bank]) for bank in last}


def business_days_after(last: date, today: date) -> int:
    days = [last + timedelta(days=n) for n in range(1, (today - last).days + 1)]
    if all(FIRST_YEAR <= d.year <= LAST_YEAR for d in days):
        china = holidays.country_holidays("CN", years=range(last.year, today.year + 1))
        return sum(china.is_working_day(d) for d in days)
    return sum(d.weekday() < 5 for d in days)


def silent_banks(last_received: dict[str, datetime | None], now: datetime, days: int, zone: str) -> set[str]:
    today = now.astimezone(ZoneInfo(zone)).date()
    return {
        bank
        for bank, last in last_received.items()
        if last is None or business_days_after(last.astimezone(ZoneInfo(zone)).date(), today) >= days
    }
