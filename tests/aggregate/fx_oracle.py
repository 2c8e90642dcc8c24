"""Independent FX conversion for the oracle test: exact fractions from the seed CSV, written
without settlement_core.fx, following the documented rule (rate = latest on/before the value
date; A->B = amount * rate(A) / rate(B); each reported sum rounded once, half-even)."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

SEED_CSV = Path(__file__).resolve().parents[2] / "seeds" / "fx_rates.csv"


def load_rates() -> dict[str, list[tuple[date, Fraction]]]:
    lines = [line for line in SEED_CSV.read_text().splitlines() if line and not line.startswith("#")]
    rates: dict[str, list[tuple[date, Fraction]]] = defaultdict(list)
    for row in csv.DictReader(lines):
        rates[row["currency"]].append((date.fromisoformat(row["valid_from"]), Fraction(row["cny_per_unit"])))
    return {c: sorted(v) for c, v in rates.items()}


def rate(rates: dict[str, list[tuple[date, Fraction]]], currency: str, day: date) -> Fraction | None:
    if currency == "CNY":
        return Fraction(1)
    usable = [r for start, r in rates.get(currency, []) if start <= day]
    return usable[-1] if usable else None


def converted_by_year(
    day_totals: dict[tuple[str, str, str, str], Decimal], category: str, target: str
) -> tuple[dict[str, Decimal], dict[str, dict[str, Decimal]]]:
    """From the oracle's per-day totals: (converted per year, unconverted per year/currency)."""
    rates = load_rates()
    exact: dict[str, Fraction] = defaultdict(Fraction)
    unconverted: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for (cat, currency, grain, label), amount in day_totals.items():
        if cat != category or grain != "d":
            continue
        day = date.fromisoformat(label)
        source, dest = rate(rates, currency, day), rate(rates, target, day)
        if source is None or dest is None:
            unconverted[label[:4]][currency] += amount
        else:
            exact[label[:4]] += Fraction(str(amount)) * source / dest
    # round() on a Fraction rounds half to even.
    converted = {year: Decimal(round(value * 100)) / 100 for year, value in exact.items()}
    return converted, {y: dict(v) for y, v in unconverted.items()}
