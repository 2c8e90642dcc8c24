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
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from pathlib import Path

from settlement_core.dates import DateFormatError, parse_iso_date
from settlement_core.money import MINOR_UNITS, minor_units

BASE = "CNY"
_EXACT = Context(prec=38, rounding=ROUND_HALF_EVEN)
_FIELDS = ("currency", "valid_from", "cny_per_unit", "source", "sample")
# A plain positive decimal with at most 10 decimals, as stored in fx_rates (Numeric(20, 10)).
_RATE_TEXT = re.compile(r"(0|[1-9][0-9]{0,9})(\.[0-9]{1,10})?")


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

    def segments(
        self,
        source: str,
        target: str,
        start: date,
        end: date,
    ) -> list[tuple[date, date, Decimal | None]]:
        """Split [start, end] into runs with one conversion factor (None where unconvertible).

        An empty range (end < start) has no segments.
        """
        if end < start:
            return []
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
    return _EXACT.multiply(Decimal(units).scaleb(-minor_units(source), context=_EXACT), factor)


def round_to_currency(value: Decimal, currency: str) -> Decimal:
    quantum = Decimal(1).scaleb(-minor_units(currency))
    return value.quantize(quantum, rounding=ROUND_HALF_EVEN, context=_EXACT)


def load_fx_csv(path: Path) -> list[FxRate]:
    """Read the FX seed CSV: blank lines and `#` comment lines are skipped; errors name the
    file line and the column."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        numbered = [
            (number, line)
            for number, line in enumerate(handle, start=1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
    if not numbered:
        raise FxFileError(f"{path}: no header line")
    rows = [next(csv.reader([line])) for _, line in numbered]  # one record per line
    if tuple(rows[0]) != _FIELDS:
        raise FxFileError(f"{path}: line {numbered[0][0]}: header must be {','.join(_FIELDS)}")
    rates: list[FxRate] = []
    seen: set[tuple[str, date]] = set()
    for (number, _), row in zip(numbered[1:], rows[1:], strict=True):
        where = f"{path}: line {number}"
        if len(row) != len(_FIELDS):
            raise FxFileError(f"{where}: expected {len(_FIELDS)} columns, found {len(row)}")
        currency, valid_from, rate_text, source, sample = row
        if currency not in MINOR_UNITS or currency == BASE:
            raise FxFileError(f"{where}: currency: {currency!r} unknown or the base currency")
        try:
            day = parse_iso_date(valid_from)
        except DateFormatError:
            raise FxFileError(f"{where}: valid_from: {valid_from!r} is not YYYY-MM-DD") from None
        if not _RATE_TEXT.fullmatch(rate_text) or Decimal(rate_text) <= 0:
            raise FxFileError(
                f"{where}: cny_per_unit: {rate_text!r} is not a positive decimal "
                "with at most 10 integer digits and 10 decimals"
            )
        if not source.strip():
            raise FxFileError(f"{where}: source: must not be empty")
        if sample not in ("true", "false"):
            raise FxFileError(f"{where}: sample: must be true or false, not {sample!r}")
        if (currency, day) in seen:
            raise FxFileError(f"{where}: valid_from: a second {currency} rate for {day}")
        seen.add((currency, day))
        rates.append(FxRate(currency, day, Decimal(rate_text), source, sample == "true"))
    return rates
