"""FX conversion at read time, exact Decimal.

Rates are CNY per one unit of a currency, each valid from its date until the next row of the
same currency; the rate for a value date is the latest on or before it. Conversion from A to
B is amount * rate(A) / rate(B) (CNY has rate 1). Rounding rule: each converted sum is
computed exactly (Decimal, 38 digits) and rounded once, half-even, to the target currency's
minor unit. Amounts whose currency has no rate on or before their value date are reported
as unconverted, never dropped and never guessed.
"""

from __future__ import annotations

import bisect
import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from pathlib import Path

from settlement_core.money import MINOR_UNITS, minor_units

BASE = "CNY"
_EXACT = Context(prec=38, rounding=ROUND_HALF_EVEN)


class FxFileError(ValueError):
    """A malformed FX seed file; the message names the line and column."""


@dataclass(frozen=True, slots=True)
class FxRate:
    currency: str
    valid_from: date
    cny_per_unit: Decimal
    source: str
    sample: bool


class FxTable:
    """Immutable lookup over a set of rates."""

    def __init__(self, rates: Iterable[FxRate]) -> None:
        by_currency: dict[str, list[FxRate]] = {}
        for rate in rates:
            by_currency.setdefault(rate.currency, []).append(rate)
        self._rates = {c: sorted(rs, key=lambda r: r.valid_from) for c, rs in by_currency.items()}
        self._starts = {c: [r.valid_from for r in rs] for c, rs in self._rates.items()}

    def rate_on(self, currency: str, day: date) -> Decimal | None:
        if currency == BASE:
            return Decimal(1)
        starts = self._starts.get(currency)
        if not starts:
            return None
        index = bisect.bisect_right(starts, day) - 1
        return self._rates[currency][index].cny_per_unit if index >= 0 else None

    def change_dates(self, currency: str, start: date, end: date) -> list[date]:
        return [d for d in self._starts.get(currency, []) if start < d <= end]

    def segments(self, source: str, target: str, start: date, end: date) -> list[tuple[date, date, Decimal | None]]:
        """Split [start, end] into runs with one conversion factor (None where unconvertible)."""
        if source == target:
            return [(start, end, Decimal(1))]
        cuts = sorted(set(self.change_dates(source, start, end) + self.change_dates(target, start, end)))
        bounds = [start, *cuts]
        result: list[tuple[date, date, Decimal | None]] = []
        for i, seg_start in enumerate(bounds):
            seg_end = bounds[i + 1] - timedelta(days=1) if i + 1 < len(bounds) else end
            result.append((seg_start, seg_end, self.factor(source, target, seg_start)))
        return result

    def factor(self, source: str, target: str, day: date) -> Decimal | None:
        if source == target:
            return Decimal(1)
        src, dst = self.rate_on(source, day), self.rate_on(target, day)
        if src is None or dst is None:
            return None
        return _EXACT.divide(src, dst)


def convert_minor(units: int, source: str, factor: Decimal) -> Decimal:
    """Exact converted value (not yet rounded) of `units` minor units of `source`."""
    return _EXACT.multiply(Decimal(units).scaleb(-minor_units(source)), factor)


def round_to_currency(value: Decimal, currency: str) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_EVEN, context=_EXACT)


def load_fx_csv(path: Path) -> list[FxRate]:
    rates: list[FxRate] = []
    with path.open(encoding="utf-8") as handle:
        rows = [line for line in handle if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.DictReader(rows)
    expected = {"currency", "valid_from", "cny_per_unit", "source", "sample"}
    if set(reader.fieldnames or []) != expected:
        raise FxFileError(f"{path}: header must be {sorted(expected)}")
    for number, row in enumerate(reader, start=2):
        try:
            currency = row["currency"]
            if currency not in MINOR_UNITS or currency == BASE:
                raise ValueError(f"currency {currency!r} unknown or the base currency")
            rate = Decimal(row["cny_per_unit"])
            if not rate.is_finite() or rate <= 0:
                raise ValueError("cny_per_unit must be positive")
            if row["sample"] not in ("true", "false"):
                raise ValueError("sample must be true or false")
            rates.append(FxRate(currency, date.fromisoformat(row["valid_from"]), rate,
                                row["source"], row["sample"] == "true"))
        except (ValueError, ArithmeticError) as exc:
            raise FxFileError(f"{path}: data row {number}: {exc}") from None
    return rates
