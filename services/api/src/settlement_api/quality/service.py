"""The data-quality score of one bank for one month, the pure part (issue 25 step 5;
docs/statistics.md, "Data-quality score").

Six components, each scoring 0..1 from facts read elsewhere (repository.py, the timeliness
and control-totals slices) and counting for its weight in seeds/quality.yaml; the score is
the sum of weight x component score, 0-100, to two decimals (half-even). Every component's
measure is returned with it, so a bank sees exactly why its score is what it is.

- timeliness: on-time events / assessed events (timeliness.service); 1 when none assessed;
- rejections, corrections, unknown_countries: a rate r scores max(0, 1 - r / tolerance);
  corrections' rate is (reversals + corrections) / events, each row by its own value date (a
  correction is also one of the month's events: it replaced its original with its figure);
- control_totals: 1 when declared without an open break (an acknowledged one is resolved) or
  not yet due; 0 with an open break, or when due and not declared;
- silence: the longest run of working days of the month (up to today) on which nothing of
  the bank arrived, less SILENT_BUSINESS_DAYS, over the month's working days (up to today).

Rates and shares are exact Decimals; only the displayed figures are rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from settlement_api.quality.weights import QualityWeights
from settlement_api.timeliness.service import PeriodTimeliness

POINTS = Decimal("0.01")
SHARE = Decimal("0.000001")
ONE, ZERO = Decimal(1), Decimal(0)


class ControlTotalsState(StrEnum):
    BALANCED = "balanced"  # declared, no open break
    OPEN_BREAK = "open_break"
    MISSING = "missing"  # due and not declared
    PENDING = "pending"  # not declared, not due yet (or no deadline to judge by)


@dataclass(frozen=True, slots=True)
class MonthFacts:
    """What the score is computed from, for one bank and month."""

    timeliness: PeriodTimeliness  # the events valued in the month
    reversals: int  # reversals valued in the month
    unknown_countries: int  # events valued in the month with no counterparty country named
    dead_letters: int  # dead letters of the bank received in the month
    refused: int  # events of the bank refused at the edge (422) in the month of receipt
    control_totals: ControlTotalsState
    longest_silence: int  # working days in the longest run without an arrival
    working_days: int  # working days of the month up to today
    silent_allowance: int  # SILENT_BUSINESS_DAYS
    corrections: int = 0  # corrections (events with `corrects`) valued in the month


@dataclass(frozen=True, slots=True)
class ComponentScore:
    name: str
    weight: int
    measure: str  # the rate, share, state or day count the score comes from
    score: Decimal  # 0..1, exact

    @property
    def points(self) -> Decimal:
        return self.weight * self.score


@dataclass(frozen=True, slots=True)
class QualityScore:
    components: tuple[ComponentScore, ...]

    @property
    def score(self) -> Decimal:
        """0-100, two decimals, half-even."""
        return sum((c.points for c in self.components), ZERO).quantize(POINTS, rounding=ROUND_HALF_EVEN)


def rate(part: int, whole: int) -> Decimal:
    return ZERO if whole == 0 else Decimal(part) / Decimal(whole)


def rate_score(value: Decimal, tolerance: Decimal) -> Decimal:
    return max(ZERO, ONE - value / tolerance)


def _share(value: Decimal) -> str:
    return str(value.quantize(SHARE, rounding=ROUND_HALF_EVEN))


def score(facts: MonthFacts, weights: QualityWeights) -> QualityScore:
    t = facts.timeliness
    assessed = t.on_time + t.late
    on_time = ONE if assessed == 0 else rate(t.on_time, assessed)
    rejections = facts.dead_letters + facts.refused
    rejected = rate(rejections, t.events + rejections)
    corrected = rate(facts.reversals + facts.corrections, t.events)
    unknown = rate(facts.unknown_countries, t.events)
    beyond = max(0, facts.longest_silence - facts.silent_allowance)
    silence = ONE if facts.working_days == 0 else max(ZERO, ONE - rate(beyond, facts.working_days))
    declared = facts.control_totals in (ControlTotalsState.BALANCED, ControlTotalsState.PENDING)
    return QualityScore(
        (
            ComponentScore("timeliness", weights.timeliness.weight, _share(on_time), on_time),
            ComponentScore(
                "rejections",
                weights.rejections.weight,
                _share(rejected),
                rate_score(rejected, weights.rejections.tolerance),
            ),
            ComponentScore(
                "corrections",
                weights.corrections.weight,
                _share(corrected),
                rate_score(corrected, weights.corrections.tolerance),
            ),
            ComponentScore(
                "control_totals", weights.control_totals.weight, facts.control_totals.value, ONE if declared else ZERO
            ),
            ComponentScore(
                "unknown_countries",
                weights.unknown_countries.weight,
                _share(unknown),
                rate_score(unknown, weights.unknown_countries.tolerance),
            ),
            ComponentScore("silence", weights.silence.weight, str(facts.longest_silence), silence),
        )
    )


def longest_silence(working_days: list[bool]) -> int:
    """The longest run of False in `working_days` (one flag per working day of the month up
    to today, in order: did anything of the bank arrive that day?)."""
    longest = run = 0
    for arrived in working_days:
        run = 0 if arrived else run + 1
        longest = max(longest, run)
    return longest
