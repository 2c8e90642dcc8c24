"""The soak's verdicts (bench/soak/stats.py) on made-up series: flat, drifting, noisy,
linear, saturating and accelerating growth."""

from __future__ import annotations

import math
import random

import pytest
from bench.soak.stats import (
    RSS_TOLERANCE_FLOOR,
    flat,
    growth,
    linear_fit,
    rss_tolerance,
    steady_window,
    t975,
)

MIB = 2**20
TIMES = [10.0 * i for i in range(181)]  # 30 minutes, a sample every 10 s


def test_linear_fit_recovers_a_line_and_its_error() -> None:
    xs = [float(i) for i in range(10)]
    fit = linear_fit(xs, [3.0 + 2.0 * x for x in xs])
    assert fit.slope == pytest.approx(2.0)
    assert fit.intercept == pytest.approx(3.0)
    assert fit.slope_se == pytest.approx(0.0, abs=1e-12)
    assert fit.r2 == pytest.approx(1.0)
    # Residuals alternating +1/-1 around y = 2x: se = sqrt(sse / (n - 2) / sxx).
    ys = [2.0 * x + (1 if i % 2 else -1) for i, x in enumerate(xs)]
    noisy = linear_fit(xs, ys)
    sse = sum((y - noisy.intercept - noisy.slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - 4.5) ** 2 for x in xs)
    assert noisy.slope == pytest.approx(2.0, abs=0.1)
    assert noisy.slope_se == pytest.approx(math.sqrt(sse / 8 / sxx))
    assert 0 < noisy.slope_se < 0.2
    assert math.isnan(linear_fit([1.0, 2.0], [1.0, 2.0]).slope)
    assert math.isnan(linear_fit([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]).slope)
    with pytest.raises(ValueError, match="length"):
        linear_fit([1.0], [1.0, 2.0])


def test_t_quantiles() -> None:
    assert t975(1) == pytest.approx(12.706)
    assert t975(10) == pytest.approx(2.228)
    assert t975(120) == pytest.approx(1.98, abs=0.002)
    assert t975(0) == math.inf


def test_warm_up_is_left_out() -> None:
    ts, _ = steady_window(TIMES, [0.0] * len(TIMES))
    assert ts[0] == pytest.approx(360.0)  # 20 % of 30 minutes
    short = [10.0 * i for i in range(19)]  # 3 minutes: 20 % = 36 s, the 60 s floor fits in half
    ts, _ = steady_window(short, [0.0] * len(short))
    assert ts[0] == pytest.approx(60.0)


def test_noisy_but_flat_rss_passes() -> None:
    rng = random.Random(1)
    rss = [120 * MIB + rng.gauss(0, 2 * MIB) for _ in TIMES]
    verdict = flat("rss", TIMES, rss, rss_tolerance(rss))
    assert verdict.flat
    assert verdict.drift_low < 0 < verdict.drift_high or abs(verdict.drift) < 2 * MIB
    assert verdict.tolerance == pytest.approx(12 * MIB, rel=0.05)


def test_leaking_rss_fails() -> None:
    rng = random.Random(2)
    # 40 MiB over 30 minutes: small next to the noise of one sample, not over the run.
    rss = [120 * MIB + 40 * MIB * t / TIMES[-1] + rng.gauss(0, 2 * MIB) for t in TIMES]
    verdict = flat("rss", TIMES, rss, rss_tolerance(rss))
    assert not verdict.flat
    assert verdict.drift == pytest.approx(32 * MIB, rel=0.15)  # the window is the last 80 %


def test_too_few_or_too_noisy_samples_do_not_pass() -> None:
    rng = random.Random(3)
    short = TIMES[:12]
    noisy = [100 * MIB + rng.gauss(0, 40 * MIB) for _ in short]
    assert not flat("rss", short, noisy, RSS_TOLERANCE_FLOOR).flat
    assert not flat("rss", TIMES[:2], [1.0, 2.0], 1.0).flat


def test_lag_growing_by_more_than_a_second_of_traffic_fails() -> None:
    rng = random.Random(4)
    steady = [max(0.0, 300 + rng.gauss(0, 150)) for _ in TIMES]
    assert flat("lag", TIMES, steady, 1000.0).flat
    behind = [300 + 5.0 * t + rng.gauss(0, 150) for t in TIMES]  # 5 events/s short of the rate
    assert not flat("lag", TIMES, behind, 1000.0).flat


def test_growth_linear_sublinear_and_accelerating() -> None:
    rng = random.Random(5)
    events = [1000.0 * t for t in TIMES]
    linear = growth("pg", events, [8e6 + 420 * e + rng.gauss(0, 2e5) for e in events])
    assert linear.linear
    assert linear.shape == "linear"
    assert linear.bytes_per_event == pytest.approx(420, rel=0.01)
    assert linear.r2 > 0.99
    saturating = growth("redis", events, [5e6 * (1 - math.exp(-e / 4e4)) for e in events])
    assert saturating.linear
    assert saturating.shape == "sublinear"
    accelerating = growth("pg", events, [8e6 + 420 * e + 4e-4 * e * e for e in events])
    assert not accelerating.linear
    assert accelerating.shape == "accelerating"
    unknown = growth("pg", [1.0, 2.0], [1.0, 2.0])
    assert not unknown.linear
    assert unknown.shape == "unknown"
