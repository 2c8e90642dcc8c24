"""Progress toward a target: pure arithmetic over exact Decimals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from settlement_core.targets import Target

RATIO_QUANTUM = Decimal("0.000001")


class Status(StrEnum):
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    BEHIND = "behind"


@dataclass(frozen=True, slots=True)
class Progress:
    as_of: date
    progress_ratio: Decimal
    expected_ratio: Decimal
    pace: Decimal | None
    projected_total: Decimal | None
    status: Status


def effective_as_of(target: Target, requested: date) -> date:
    """as_of is capped at the window end: the 2020 figure does not change after 2020."""
    return min(requested, target.window_end)


def elapsed_days(target: Target, as_of: date) -> int:
    if as_of < target.window_start:
        return 0
    return (min(as_of, target.window_end) - target.window_start).days + 1


def progress(target: Target, settled: Decimal, as_of: date, on_track_pace: Decimal) -> Progress:
    """Expected ratio is the elapsed fraction of the window's days, counting as_of itself."""
    as_of = effective_as_of(target, as_of)
    amount = Decimal(target.amount)
    ratio = (settled / amount).quantize(RATIO_QUANTUM, rounding=ROUND_HALF_EVEN)
    days = elapsed_days(target, as_of)
    expected = (Decimal(days) / Decimal(target.window_days)).quantize(RATIO_QUANTUM, rounding=ROUND_HALF_EVEN)
    if days == 0:
        pace = None
        projected = None
    else:
        exact_expected = Decimal(days) / Decimal(target.window_days)
        pace = ((settled / amount) / exact_expected).quantize(RATIO_QUANTUM, rounding=ROUND_HALF_EVEN)
        projected = (settled / exact_expected).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    if settled >= amount:
        status = Status.ACHIEVED
    elif pace is None or pace >= on_track_pace:  # nothing is due before the window opens
        status = Status.ON_TRACK
    else:
        status = Status.BEHIND
    return Progress(as_of, ratio, expected, pace, projected, status)
