"""Issue 29's figure: the end-to-end rate with the transparency log on ÷ off, the order the
repetitions run in, the verdict against "falls by no more than 10 %", and the summary."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
from bench.reporting.markdown import markdown
from bench.reporting.receipts import (
    OFF,
    ON,
    RECEIPTS_GOAL,
    alternating_order,
    counted_rate,
    describe_cost,
    log_cost_verdict,
    on_off_ratio,
    paired_ratios,
    per_event_us,
    side_values,
)
from bench.reporting.results import BenchReport, E2eCase, ReceiptsRate, ReceiptsResult, to_json
from bench.reporting.stats import spread
from bench.reporting.verdicts import verdicts


def test_alternating_order_is_abba_with_equal_sides() -> None:
    assert alternating_order(1) == (OFF, ON)
    assert alternating_order(3) == (OFF, ON, ON, OFF, OFF, ON)
    four = alternating_order(4)
    assert four.count(OFF) == four.count(ON) == 4
    # A load rising steadily through the run: ABBA gives each side the same mean position.
    positions = {side: [i for i, s in enumerate(four) if s == side] for side in (OFF, ON)}
    assert sum(positions[OFF]) == sum(positions[ON])


def test_alternating_order_needs_a_repetition() -> None:
    with pytest.raises(ValueError, match="at least one"):
        alternating_order(0)


def test_side_values_and_pairs_follow_the_order() -> None:
    order = alternating_order(3)  # off on on off off on
    values = [1000.0, 900.0, 880.0, 1100.0, 1000.0, 950.0]
    assert side_values(order, values, OFF) == [1000.0, 1100.0, 1000.0]
    assert side_values(order, values, ON) == [900.0, 880.0, 950.0]
    pairs = paired_ratios(order, values)
    assert pairs.values == pytest.approx((0.9, 0.8, 0.95))
    assert pairs.median == pytest.approx(0.9)
    assert (pairs.low, pairs.high) == pytest.approx((0.8, 0.95))


def test_paired_ratios_skip_an_unmeasured_repetition() -> None:
    order = alternating_order(2)  # off on on off
    pairs = paired_ratios(order, [1000.0, 950.0, math.nan, 1000.0])
    assert pairs.values == pytest.approx((0.95,))


def test_paired_ratios_refuse_a_mismatch() -> None:
    with pytest.raises(ValueError, match="3 values for 4"):
        paired_ratios(alternating_order(2), [1.0, 2.0, 3.0])


def test_counted_rate_is_the_steady_rate_between_1_and_99_percent() -> None:
    # 1,000 events: nothing for the first second (start-up), then 500/s.
    samples = [(0.0, 0.0), (1.0, 0.0), *((1.0 + k * 0.25, min(1000.0, k * 125.0)) for k in range(1, 12))]
    assert counted_rate(samples, 1000.0) == pytest.approx(500.0)


def test_counted_rate_falls_back_to_total_over_time_when_counted_in_one_burst() -> None:
    # Every event became visible between two samples: no 1 %..99 % interval to time.
    assert counted_rate([(0.0, 0.0), (0.25, 0.0), (4.0, 2000.0), (4.25, 2000.0)], 2000.0) == pytest.approx(500.0)
    assert math.isnan(counted_rate([(0.0, 0.0), (1.0, 10.0)], 2000.0))
    assert math.isnan(counted_rate([(0.0, 0.0)], 0.0))


def test_per_event_us() -> None:
    assert per_event_us(3.0, 30_000) == pytest.approx(100.0)
    assert math.isnan(per_event_us(3.0, 0))


def test_on_off_ratio_is_on_over_off_with_the_widest_range() -> None:
    off, on = spread([1000.0, 1100.0, 1200.0]), spread([900.0, 1000.0, 1050.0])
    r = on_off_ratio(off, on)
    assert r.median == pytest.approx(1000.0 / 1100.0)
    assert r.low == pytest.approx(900.0 / 1200.0)
    assert r.high == pytest.approx(1050.0 / 1000.0)


@pytest.mark.parametrize(
    ("median", "met"),
    [(1.02, True), (0.95, True), (0.90, True), (0.8999, False), (0.5, False)],
)
def test_verdict_is_met_down_to_ten_percent_lower(median: float, met: bool) -> None:
    v = log_cost_verdict(6000.0, spread([median]))
    assert v.met is met
    assert v.threshold == pytest.approx(0.9)
    assert v.goal.endswith(RECEIPTS_GOAL)
    assert "6,000" in v.goal


def test_verdict_without_figures_is_unknown_not_met() -> None:
    assert log_cost_verdict(6000.0, spread([])).met is None
    assert describe_cost(spread([])) == "not measured"


def test_describe_cost_says_how_much_and_which_way() -> None:
    assert describe_cost(spread([0.876])) == "12.4 % lower with the log on (goal: at most 10 % lower): missed"
    assert describe_cost(spread([0.95])) == "5.0 % lower with the log on (goal: at most 10 % lower): met"
    assert describe_cost(spread([1.01])) == "1.0 % higher with the log on (goal: at most 10 % lower): met"


def _case(rate: float, achieved: float, cpu: dict[str, float]) -> E2eCase:
    one = spread([1.0])
    return E2eCase(
        rate, spread([achieved]), one, spread([150.0]), one, 10, 10, 0, 0.0, True, one,
        {k: spread([v]) for k, v in cpu.items()}, spread([95.0]),
    )  # fmt: skip


def _report(off: list[float], on: list[float]) -> BenchReport:
    order = alternating_order(len(off))
    values = [off.pop(0) if side == OFF else on.pop(0) for side in order]
    counted_off, counted_on = spread(side_values(order, values, OFF)), spread(side_values(order, values, ON))
    rate = ReceiptsRate(
        target_rate=6000.0,
        order=order,
        off=_case(6000.0, 5000.0, {"ingest": 150.0, "aggregate": 40.0, "api": 10.0}),
        on=_case(6000.0, 4500.0, {"ingest": 170.0, "aggregate": 40.0, "api": 10.0, "integrator": 20.0}),
        counted_per_s=tuple(values),
        counted_off=counted_off,
        counted_on=counted_on,
        ratio=on_off_ratio(counted_off, counted_on),
        paired=paired_ratios(order, values),
        acked_ratio=on_off_ratio(spread([5000.0]), spread([4500.0])),
        log_backlog=spread([1200.0]),
        log_catch_up_s=spread([0.8]),
        cpu_us_per_event_off={"ingest": spread([100.0, 110.0, 90.0]), "aggregate": spread([60.0])},
        cpu_us_per_event_on={"ingest": spread([220.0]), "aggregate": spread([60.0]), "integrator": spread([30.0])},
    )
    receipts = ReceiptsResult((rate,), True, 90_001, 90_001, 0)
    report = BenchReport("2026-12-07T18:00:00+00:00", "", "quick", {"cpus": 2}, {"reps": 3}, receipts=receipts)
    return dataclasses.replace(report, verdicts=verdicts(report))


def test_a_fall_beyond_ten_percent_is_reported_missed() -> None:
    report = _report([5000.0, 5200.0, 4800.0], [4400.0, 4300.0, 4500.0])
    (v,) = [v for v in report.verdicts if v.goal.endswith(RECEIPTS_GOAL)]
    assert v.measured == pytest.approx(4400.0 / 5000.0)
    assert v.met is False
    text = markdown(report)
    assert "## Goal of issue 29" in text
    assert "| receipts: e2e rate at 6,000 ev/s offered, log on ÷ off | 0.880 × | ≥ 0.900 × | **no** |" in text
    assert "12.0 % lower with the log on (goal: at most 10 % lower): missed" in text
    # The integrator's CPU has its own column; the off side has none.
    assert "| 6,000 | on | 4,400 (4,300–4,500) | 4,500 |" in text
    assert "| 170 / 40 / 10 / 20 |" in text
    assert "| 150 / 40 / 10 / – |" in text
    assert "off, on, on, off, off, on" in text
    assert "| 6,000 | off | 100 (90–110) | 60 | – | – | 160 |" in text
    assert "| 6,000 | on | 220 | 60 | – | 30 | 310 |" in text


def test_a_small_cost_is_reported_met_and_lands_in_the_json() -> None:
    report = _report([5000.0, 5000.0, 5000.0], [4800.0, 4900.0, 4700.0])
    (v,) = [v for v in report.verdicts if v.goal.endswith(RECEIPTS_GOAL)]
    assert v.met is True
    data = json.loads(json.dumps(to_json(report)))
    assert data["receipts"]["rates"][0]["ratio"]["median"] == pytest.approx(0.96)
    assert [x["met"] for x in data["verdicts"] if x["goal"].endswith(RECEIPTS_GOAL)] == [True]
