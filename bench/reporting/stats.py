"""Pure statistics for the benchmarks: percentiles, median-and-spread over repetitions,
conservative ratios and goal verdicts. No I/O here, so tests/bench can check it exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), the same definition as numpy's default.

    Returns NaN for no values rather than raising: an empty run is reported, not hidden.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0..100, got {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return float(ordered[low])
    weight = position - low
    return float(ordered[low] * (1 - weight) + ordered[high] * weight)


@dataclass(frozen=True, slots=True)
class Spread:
    """One figure over repetitions: the median, and min..max as the spread.

    With three to five repetitions min..max is the honest spread; a standard deviation of
    three numbers would suggest a precision the shared machine does not have.
    """

    median: float
    low: float
    high: float
    n: int
    values: tuple[float, ...]

    @property
    def relative_spread(self) -> float:
        """(max - min) / median: how much one repetition may differ from another."""
        if self.n == 0 or self.median == 0 or math.isnan(self.median):
            return math.nan
        return (self.high - self.low) / abs(self.median)


def spread(values: Sequence[float]) -> Spread:
    clean = tuple(float(v) for v in values if not math.isnan(float(v)))
    if not clean:
        return Spread(math.nan, math.nan, math.nan, 0, ())
    return Spread(percentile(clean, 50), min(clean), max(clean), len(clean), clean)


def ratio(numerator: Spread, denominator: Spread) -> Spread:
    """Ours / theirs. Median of medians, and the widest range the repetitions allow
    (min/max .. max/min), so a noisy anchor widens the reported spread instead of hiding."""
    if numerator.n == 0 or denominator.n == 0 or denominator.low <= 0:
        return Spread(math.nan, math.nan, math.nan, 0, ())
    mid = numerator.median / denominator.median
    low = numerator.low / denominator.high
    high = numerator.high / denominator.low
    return Spread(mid, low, high, min(numerator.n, denominator.n), (low, mid, high))


@dataclass(frozen=True, slots=True)
class Latency:
    """Latency of one repetition, in milliseconds."""

    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def latency(samples_s: Sequence[float]) -> Latency:
    """Summarise one repetition's latency samples given in seconds."""
    ms = [s * 1000.0 for s in samples_s]
    if not ms:
        return Latency(0, math.nan, math.nan, math.nan)
    return Latency(len(ms), percentile(ms, 50), percentile(ms, 99), max(ms))


def rate(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else math.nan


def cpu_percent(cpu_seconds: float, wall_seconds: float) -> float:
    """CPU use as a percentage of one core (200 % = both cores of this machine)."""
    return 100.0 * cpu_seconds / wall_seconds if wall_seconds > 0 else math.nan


def steady_rate(
    samples: Sequence[tuple[float, float]], total: float, start_fraction: float = 0.01, end_fraction: float = 0.99
) -> float:
    """Throughput from (time, cumulative count) samples, excluding warm-up and tail.

    Measured from the first sample at or above `start_fraction` of `total` to the first
    at or above `end_fraction`, so process start-up (nothing applied yet) and the last
    partial batch do not distort the rate.
    """
    if total <= 0 or len(samples) < 2:
        return math.nan
    start = next((s for s in samples if s[1] >= start_fraction * total), None)
    end = next((s for s in samples if s[1] >= end_fraction * total), None)
    if start is None or end is None or end[0] <= start[0]:
        return math.nan
    return (end[1] - start[1]) / (end[0] - start[0])


def is_sustained(target: float, achieved: float, dropped: int, acked: int, seen: int, error_share: float) -> bool:
    """Held means: ≥ 95 % of the offered rate acknowledged, no offered batch skipped for
    lack of capacity, < 1 % errors, and every acknowledged probe visible before the drain
    timeout (so the aggregator did not fall ever further behind)."""
    return achieved >= 0.95 * target and dropped == 0 and error_share < 0.01 and seen == acked


@dataclass(frozen=True, slots=True)
class Verdict:
    """A goal from issue 6 compared with the measured median (reported, never asserted)."""

    goal: str
    measured: float
    threshold: float
    higher_is_better: bool
    unit: str

    @property
    def met(self) -> bool | None:
        if math.isnan(self.measured):
            return None
        if self.higher_is_better:
            return self.measured >= self.threshold
        return self.measured <= self.threshold

    @property
    def attainment(self) -> float:
        """measured/threshold oriented so that < 1 means short of the goal."""
        if math.isnan(self.measured) or self.measured == 0 or self.threshold == 0:
            return math.nan
        if self.higher_is_better:
            return self.measured / self.threshold
        return self.threshold / self.measured
