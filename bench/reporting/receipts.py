"""Pure judging of the `receipts` stage (issue 29): in which order the log-off and log-on
repetitions run, the on ÷ off ratios, and the verdict against "falls by no more than 10 %".

No I/O: tests/bench/reporting/test_receipts.py checks it on made-up figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bench.reporting.stats import Spread, Verdict, ratio, spread, steady_rate

OFF = "off"
ON = "on"
# Issue 29: "the end-to-end rate falls by no more than 10 % with the log on".
MAX_FALL = 0.10
# Appended to the goal's name in the JSON and the summary: its own table, apart from the
# absolute goals (issue 6) and the comparisons with peers (issue 16).
RECEIPTS_GOAL = " (issue 29)"


def alternating_order(reps: int) -> tuple[str, ...]:
    """off, on, on, off, off, on, ...: pairs in ABBA order, so a load that rises or falls
    steadily through the run (the machine is shared) weighs on both sides alike, and the
    i-th repetition of each side runs right next to the other's i-th."""
    if reps < 1:
        raise ValueError(f"at least one repetition per side, got {reps}")
    order: list[str] = []
    for i in range(reps):
        order += [OFF, ON] if i % 2 == 0 else [ON, OFF]
    return tuple(order)


def paired_ratios(order: Sequence[str], values: Sequence[float]) -> Spread:
    """on ÷ off of the i-th repetition of each side (neighbours in `alternating_order`),
    `values` in the order the repetitions ran. Less sensitive than the ratio of medians to
    load that changes between the start and the end of the run."""
    if len(order) != len(values):
        raise ValueError(f"{len(values)} values for {len(order)} repetitions")
    off = [v for side, v in zip(order, values, strict=True) if side == OFF]
    on = [v for side, v in zip(order, values, strict=True) if side == ON]
    pairs = [b / a for a, b in zip(off, on, strict=False) if a > 0 and not math.isnan(a) and not math.isnan(b)]
    return spread(pairs)


def counted_rate(samples: Sequence[tuple[float, float]], total: float) -> float:
    """Events counted per second in one repetition, from (seconds since the load started,
    events counted since) samples, `total` = all the repetition's events: between 1 % and
    99 % of them (stats.steady_rate) when the samples resolve that, else `total` over the
    time until the first sample that saw them all (a short repetition counted in a few
    bursts), which includes the generator's start."""
    steady = steady_rate(samples, total)
    if not math.isnan(steady):
        return steady
    end = next((t for t, n in samples if n >= total > 0), None)
    return total / end if end is not None and end > 0 else math.nan


def per_event_us(cpu_seconds: float, events: float) -> float:
    """CPU microseconds per event; NaN without events."""
    return cpu_seconds / events * 1e6 if events > 0 else math.nan


def side_values(order: Sequence[str], values: Sequence[float], side: str) -> list[float]:
    """One side's values, in the order they ran."""
    return [v for s, v in zip(order, values, strict=True) if s == side]


def on_off_ratio(off: Spread, on: Spread) -> Spread:
    """Median with the log on ÷ median with it off, and the widest range the repetitions
    allow (stats.ratio)."""
    return ratio(on, off)


def log_cost_verdict(target_rate: float, rate_ratio: Spread) -> Verdict:
    """Met when the rate with the log on is at least (1 - MAX_FALL) of the rate with it off."""
    return Verdict(
        f"receipts: e2e rate at {target_rate:,.0f} ev/s offered, log on ÷ off" + RECEIPTS_GOAL,
        rate_ratio.median,
        1.0 - MAX_FALL,
        True,
        "×",
    )


def describe_cost(rate_ratio: Spread) -> str:
    """One sentence: how much the rate fell (or rose) with the log on, against the goal."""
    if rate_ratio.n == 0 or math.isnan(rate_ratio.median):
        return "not measured"
    change = (rate_ratio.median - 1.0) * 100.0
    met = rate_ratio.median >= 1.0 - MAX_FALL
    direction = "lower" if change < 0 else "higher"
    return (
        f"{abs(change):.1f} % {direction} with the log on "
        f"(goal: at most {MAX_FALL * 100:.0f} % lower): {'met' if met else 'missed'}"
    )
