"""Progress toward a target: pure arithmetic over exact Decimals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from enum import StrEnum

from settlement_core.catalogue import Target
from settlement_core.money import minor_units

RATIO_QUANTUM = Decimal("0.000001")
_EXACT = Context(prec=38, rounding=ROUND_HALF_EVEN)


class PaceStatus(StrEnum):
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    MISSED = "missed"  # the window has closed below the target (an outcome, like achieved)


@dataclass(frozen=True, slots=True)
class Progress:
    as_of: date
    progress_ratio: Decimal
    expected_ratio: Decimal
    pace: Decimal | None
    projected_total: Decimal | None
    status: PaceStatus


def effective_as_of(target: Target, requested: date) -> date:
    """as_of is capped at the window end: the 2020 figure does not change after 2020."""
    return min(requested, target.window_end)


def elapsed_days(target: Target, as_of: date) -> int:
    if as_of < target.window_start:
        return 0
    return (min(as_of, target.window_end) - target.window_start).days + 1


def progress(target: Target, settled: Decimal, as_of: date, on_track_pace: Decimal) -> Progress:
    """Expected ratio is the elapsed fraction of the window's days, counting as_of itself.

    Status: achieved once settled >= amount; once the window has closed (requested as_of
    after window_end) the outcome is achieved or missed. Inside the window: on track while the
    exact pace (progress ratio / expected ratio) is at least `on_track_pace` (and before the
    window opens, when nothing is due yet), behind otherwise. The projected total is rounded
    half-even to the target currency's minor unit.
    """
    window_closed = as_of > target.window_end
    as_of = effective_as_of(target, as_of)
    days = elapsed_days(target, as_of)
    window = target.window_days
    # Each figure is one division of exact products, so ties round half-even exactly.
    with localcontext(_EXACT):
        amount = Decimal(target.amount)
        ratio = (settled / amount).quantize(RATIO_QUANTUM, rounding=ROUND_HALF_EVEN)
        expected = (Decimal(days) / window).quantize(RATIO_QUANTUM, rounding=ROUND_HALF_EVEN)
        pace: Decimal | None = None
        projected: Decimal | None = None
        on_pace = True  # nothing is due before the window opens
        if days > 0:
            pace = (settled * window / (amount * days)).quantize(RATIO_QUANTUM, rounding=ROUND_HALF_EVEN)
            projected = (settled * window / days).quantize(
                Decimal(1).scaleb(-minor_units(target.currency)), rounding=ROUND_HALF_EVEN
            )
            # pace >= on_track_pace, compared exactly rather than after rounding
            on_pace = settled * window >= on_track_pace * amount * days
    if settled >= amount:
        status = PaceStatus.ACHIEVED
    elif window_closed:
        status = PaceStatus.MISSED
    elif not on_pace:
        status = PaceStatus.BEHIND
    else:
        status = PaceStatus.ON_TRACK
    return Progress(as_of, ratio, expected, pace, projected, status)
