"""Pure statistics of the soak (`make soak`): is a series flat, and does a size grow linearly
in events? No I/O, so tests/bench checks every verdict on made-up series.

The tests, decided once and applied to every series:

- **Flat** (service RSS, consumer lag): an ordinary least-squares line through the samples
  after the warm-up (the first `WARMUP_SHARE` of the run, at least one minute when the run is
  long enough: imports, caches and connection pools fill then). The drift is slope x window
  length. The series is flat when the whole 95 % confidence interval of the drift lies
  within ± a tolerance (an equivalence test, so a short or noisy run cannot pass by being
  inconclusive). Tolerances: RSS max(10 % of its median, 8 MiB); lag one second of the
  offered rate (lag is a queue: a drift of one second of traffic over the run is the
  smallest backlog a reader would notice).
- **Linear in events** (PostgreSQL size, Redis memory against events applied): a line
  through all samples, and one through each half. Growth fails when it accelerates: the
  second half's slope exceeds the first's by more than 25 % beyond two standard errors of
  the difference (a leak or an index that grows faster than the data). Slower growth in the
  second half is fine (Redis buckets saturate: the value dates repeat). Bytes per event is
  the whole-run slope.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WARMUP_SHARE = 0.2
WARMUP_MIN_SECONDS = 60.0
RSS_TOLERANCE_SHARE = 0.10
RSS_TOLERANCE_FLOOR = 8 * 1024 * 1024
ACCELERATION = 1.25

# Two-sided 95 % Student t quantiles for 1..30 degrees of freedom; beyond, the normal's 1.96
# plus the usual first-order correction (off by < 0.2 % at 31 df).
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t975(df: int) -> float:
    if df < 1:
        return math.inf
    if df <= len(_T975):
        return _T975[df - 1]
    return 1.959964 + 2.37 / df


@dataclass(frozen=True, slots=True)
class Fit:
    """y = intercept + slope * x by least squares, with the slope's standard error."""

    n: int
    slope: float
    intercept: float
    slope_se: float
    r2: float


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> Fit:
    n = len(xs)
    if n != len(ys):
        raise ValueError("xs and ys differ in length")
    if n < 3:
        return Fit(n, math.nan, math.nan, math.nan, math.nan)
    mx = sum(xs) / n
    my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0:
        return Fit(n, math.nan, math.nan, math.nan, math.nan)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = my - slope * mx
    sse = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    se = math.sqrt(sse / (n - 2) / sxx)
    r2 = 1.0 - sse / syy if syy > 0 else 1.0
    return Fit(n, slope, intercept, se, r2)


def steady_window(ts: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    """The samples after the warm-up: the first WARMUP_SHARE of the run, stretched to
    WARMUP_MIN_SECONDS when that still leaves half the run."""
    if not ts:
        return [], []
    start, end = ts[0], ts[-1]
    skip = WARMUP_SHARE * (end - start)
    if 0.5 * (end - start) >= WARMUP_MIN_SECONDS:
        skip = max(skip, WARMUP_MIN_SECONDS)
    kept = [(t, y) for t, y in zip(ts, ys, strict=True) if t >= start + skip]
    return [t for t, _ in kept], [y for _, y in kept]


@dataclass(frozen=True, slots=True)
class FlatVerdict:
    series: str
    samples: int  # in the steady window
    median: float
    drift: float  # slope x window length, in the series' unit
    drift_low: float  # 95 % confidence interval of the drift
    drift_high: float
    tolerance: float
    flat: bool


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def flat(series: str, ts: Sequence[float], ys: Sequence[float], tolerance: float) -> FlatVerdict:
    """Equivalence test of 'no drift': pass when the drift's 95 % interval is within ±tolerance."""
    wt, wy = steady_window(ts, ys)
    fit = linear_fit(wt, wy)
    median = _median(wy)
    if math.isnan(fit.slope):
        return FlatVerdict(series, len(wt), median, math.nan, math.nan, math.nan, tolerance, False)
    length = wt[-1] - wt[0]
    drift = fit.slope * length
    half = t975(fit.n - 2) * fit.slope_se * length
    low, high = drift - half, drift + half
    return FlatVerdict(series, len(wt), median, drift, low, high, tolerance, -tolerance <= low and high <= tolerance)


def rss_tolerance(ys: Sequence[float]) -> float:
    return max(RSS_TOLERANCE_SHARE * _median(ys), RSS_TOLERANCE_FLOOR) if ys else RSS_TOLERANCE_FLOOR


@dataclass(frozen=True, slots=True)
class GrowthVerdict:
    series: str
    samples: int
    bytes_per_event: float  # whole-run slope
    r2: float
    first_half_slope: float
    second_half_slope: float
    linear: bool  # no acceleration: the pass criterion
    shape: str  # "linear", "sublinear" (slower in the second half), "accelerating", "unknown"


def growth(series: str, events: Sequence[float], sizes: Sequence[float]) -> GrowthVerdict:
    """Does `sizes` grow at most linearly in `events`? See the module's docstring."""
    whole = linear_fit(events, sizes)
    half = len(events) // 2
    first = linear_fit(events[: half + 1], sizes[: half + 1])
    second = linear_fit(events[half:], sizes[half:])
    if any(math.isnan(f.slope) for f in (whole, first, second)):
        return GrowthVerdict(series, len(events), whole.slope, whole.r2, first.slope, second.slope, False, "unknown")
    noise = 2.0 * math.hypot(first.slope_se, second.slope_se)
    accelerating = second.slope > ACCELERATION * first.slope + noise
    if accelerating:
        shape = "accelerating"
    elif second.slope < first.slope - noise:
        shape = "sublinear"
    else:
        shape = "linear"
    return GrowthVerdict(series, len(events), whole.slope, whole.r2, first.slope, second.slope, not accelerating, shape)
