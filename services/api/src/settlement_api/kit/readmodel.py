"""Pure planning and evaluation of bucket reads (no I/O).

A query names streams (category, currency, optionally bank) and a date range. `plan_reads` splits
the range at FX rate changes (so each piece has one conversion factor) and tiles each piece
with the minimal `cover` of whole day/month/year buckets. The caller fetches the union of the
field names from Redis and `evaluate` turns the fetched integers into exact amounts.

The number of fields grows with the requested range and the number of streams, never with
the number of events in the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal

from settlement_core.buckets import bank_field, category_field, cover
from settlement_core.fx import FxTable, convert_minor, round_to_currency
from settlement_core.money import from_minor

# Sums of exact conversions keep 38 digits, like settlement_core.fx, so rounding happens once.
_EXACT = Context(prec=38, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Stream:
    """One sequence of buckets: a category in one original currency, optionally one bank."""

    category: str
    currency: str
    bank_id: str | None = None


@dataclass(frozen=True, slots=True)
class Piece:
    stream: Stream
    factor: Decimal | None  # None: no FX rate on or before this piece, reported unconverted
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReadPlan:
    pieces: tuple[Piece, ...]

    @property
    def fields(self) -> list[str]:
        seen: dict[str, None] = {}
        for piece in self.pieces:
            for name in piece.fields:
                seen.setdefault(name, None)
        return list(seen)


def stream_fields(stream: Stream, start: date, end: date) -> tuple[str, ...]:
    if stream.bank_id is None:
        return tuple(category_field(stream.category, stream.currency, p) for p in cover(start, end))
    return tuple(bank_field(stream.bank_id, stream.category, stream.currency, p) for p in cover(start, end))


def plan_reads(streams: Iterable[Stream], start: date, end: date, target_currency: str, fx: FxTable) -> ReadPlan:
    pieces: list[Piece] = []
    if end < start:
        return ReadPlan(())
    for stream in streams:
        for seg_start, seg_end, factor in fx.segments(stream.currency, target_currency, start, end):
            pieces.append(Piece(stream, factor, stream_fields(stream, seg_start, seg_end)))
    return ReadPlan(tuple(pieces))


@dataclass(frozen=True, slots=True)
class Amounts:
    """Exact result of a plan, in minor units per original currency."""

    target_currency: str
    converted_exact: Decimal = Decimal(0)
    native_minor: dict[str, int] = field(default_factory=dict)
    unconverted_minor: dict[str, int] = field(default_factory=dict)

    @property
    def converted(self) -> Decimal:
        """Rounded once, half-even, to the target currency's minor unit (settlement_core.fx)."""
        return round_to_currency(self.converted_exact, self.target_currency)

    def native(self) -> dict[str, Decimal]:
        return {c: from_minor(v, c) for c, v in sorted(self.native_minor.items())}

    def unconverted(self) -> dict[str, Decimal]:
        return {c: from_minor(v, c) for c, v in sorted(self.unconverted_minor.items()) if v}


def evaluate(planned: ReadPlan, values: Mapping[str, int], target_currency: str) -> Amounts:
    converted = Decimal(0)
    native: dict[str, int] = {}
    unconverted: dict[str, int] = {}
    for piece in planned.pieces:
        units = sum(values.get(name, 0) for name in piece.fields)
        currency = piece.stream.currency
        native[currency] = native.get(currency, 0) + units
        if piece.factor is None:
            unconverted[currency] = unconverted.get(currency, 0) + units
        elif units:
            converted = _EXACT.add(converted, convert_minor(units, currency, piece.factor))
    return Amounts(target_currency, converted, native, unconverted)
