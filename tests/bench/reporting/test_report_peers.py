"""Issue 16's verdicts: ratios against the peers from one run, met/missed, and the summary."""

from __future__ import annotations

import dataclasses

import pytest
from bench.reporting.markdown import markdown, saturated_stage
from bench.reporting.results import (
    AggregatorResult,
    BenchReport,
    BridgeResult,
    ConsumerAnchor,
    E2eCase,
    E2eResult,
    GrowthResult,
    IntakeCase,
    IntakeResult,
    ProducerAnchor,
    QuixResult,
    to_json,
)
from bench.reporting.stats import Spread, ratio, spread
from bench.reporting.verdicts import comparison_verdicts, peer_ratios, verdicts


def _case(label: str, batch: int, events: list[float], requests: list[float]) -> IntakeCase:
    one = spread([1.0])
    return IntakeCase(label, 4, batch, "wrk", spread(events), spread(requests), one, one, 0.0, {}, one, one, one)


def _aggregator(rates: list[float], instances: int = 1) -> AggregatorResult:
    anchor = ConsumerAnchor(1000, spread([100_000.0]), spread([50_000.0]), spread([90.0]))
    return AggregatorResult(
        1000, 1.0, spread(rates), (1000,), (1000,), (1.0,), False, spread([90.0]), spread([99.0]),
        anchor, ratio(spread(rates), anchor.fetch_records_per_s), instances,
    )  # fmt: skip


def _e2e(cpu_at_6k: dict[str, float]) -> E2eResult:
    def case(rate: float, sustained: bool, cpu: dict[str, float]) -> E2eCase:
        one = spread([1.0])
        return E2eCase(
            rate, spread([rate]), one, spread([120.0]), one, 10, 10, 0, 0.0, sustained, one,
            {k: spread([v]) for k, v in cpu.items()}, one,
        )  # fmt: skip

    cases = (case(1000, True, {"ingest": 40, "aggregate": 30}), case(6000, False, cpu_at_6k))
    return E2eResult(cases, 1000.0)


def _report() -> BenchReport:
    ours_single = _case("single, c=32", 0, [900.0, 1000.0, 1100.0], [900.0, 1000.0, 1100.0])
    ours_batch = _case("batch 1000, c=4", 1000, [9000.0, 10_000.0, 11_000.0], [9.0, 10.0, 11.0])
    producer = ProducerAnchor(287, 1000, spread([50_000.0]), spread([1.0]), spread([2.0]), spread([80.0]))
    intake = IntakeResult(
        (ours_single, ours_batch), producer, ours_batch.label, ours_single.label,
        ratio(ours_batch.events_per_s, producer.records_per_s),
    )  # fmt: skip
    bridge = BridgeResult(
        "peer",
        (
            _case("single, c=1", 0, [300.0], [300.0]),
            _case("single, c=32", 0, [1900.0, 2000.0, 2100.0], [1900.0, 2000.0, 2100.0]),
            _case("batch 1000, c=4", 1000, [4000.0, 5000.0, 6000.0], [5.0]),
        ),
        best_single="single, c=32",
        best_batched="batch 1000, c=4",
    )
    quix = QuixResult("quix", 1000, spread([4000.0, 5000.0, 6000.0]), (1000,), (1.0,), False, 1.0, spread([90.0]),
                      spread([99.0]))  # fmt: skip
    growth = GrowthResult((), 1.6e7, 4.2e8, 0, Spread(float("nan"), float("nan"), float("nan"), 0, ()), None)
    return BenchReport(
        "2026-12-02T14:00:00+00:00", "2026-12-02T14:30:00+00:00", "quick", {"cpus": 2}, {"reps": 3},
        intake=intake, aggregator=_aggregator([8000.0, 9000.0, 10_000.0]),
        aggregator_scaled=_aggregator([15_000.0, 16_000.0, 17_000.0], 2), e2e=_e2e({"ingest": 95, "aggregate": 70}),
        bridge=bridge, quix=quix, growth=growth,
    )  # fmt: skip


def test_peer_ratios_are_best_against_best_with_the_widest_spread() -> None:
    ratios = peer_ratios(_report())
    assert ratios["single POSTs ÷ bridge"].median == pytest.approx(0.5)
    assert ratios["single POSTs ÷ bridge"].low == pytest.approx(900 / 2100)
    assert ratios["batched ÷ bridge"].median == pytest.approx(2.0)
    assert ratios["batched ÷ bridge"].high == pytest.approx(11_000 / 4000)
    assert ratios["aggregator ÷ Quix Streams"].median == pytest.approx(1.8)
    assert ratios["aggregator 2 processes ÷ 1"].median == pytest.approx(16_000 / 9000)


def test_every_comparison_goal_is_judged() -> None:
    found = {v.goal.removesuffix(" (issue 16)"): v for v in comparison_verdicts(_report())}
    expected = {
        "intake: single POSTs ÷ bridge": False,  # 0.5 < 1.0
        "intake: batched ÷ bridge": True,  # 2.0
        "intake: batched ÷ ProducerPerformance": True,  # 0.2 ≥ 0.15
        "aggregator (1 process): ÷ Quix Streams": True,  # 1.8 ≥ 1.5
        "aggregator (1 process): ÷ ConsumerPerformance": True,  # 0.09 ≥ 0.03
        "aggregator: 2 processes ÷ 1": False,  # 1.78 < 1.8
        "e2e: highest sustained rate": False,
        "e2e: p99 at 1,000 ev/s": True,
        "growth: PostgreSQL bytes per event": True,  # 420 < 561
    }
    assert {goal: v.met for goal, v in found.items()} == expected
    assert found["growth: PostgreSQL bytes per event"].measured == pytest.approx(420.0)


def test_a_peer_ratio_is_absent_when_one_side_did_not_run() -> None:
    report = dataclasses.replace(_report(), bridge=None, quix=None)
    goals = [v.goal for v in comparison_verdicts(report)]
    assert not any("bridge" in g or "Quix" in g for g in goals)
    text = markdown(dataclasses.replace(report, verdicts=verdicts(report)))
    assert "Not measured in this run (stage not run or failed): ours ÷ bridge, aggregator ÷ Quix Streams." in text


def test_the_saturating_stage_is_named() -> None:
    assert saturated_stage(_report()) == "ingest (95 % of a core at 6,000 ev/s offered)"
    starved = dataclasses.replace(_report(), e2e=_e2e({"ingest": 10, "aggregate": 6}))
    assert saturated_stage(starved) == (
        "none of our services (the busiest, ingest, used 10 % of a core at 6,000 ev/s offered, "
        "machine busy 1 %): the machine was the limit"
    )
    assert saturated_stage(dataclasses.replace(_report(), e2e=None)) is None


def test_summary_and_json_carry_the_comparison_goals() -> None:
    report = _report()
    report = dataclasses.replace(report, verdicts=verdicts(report), peer_ratios=peer_ratios(report))
    text = markdown(report)
    assert "## Goals of issue 16" in text
    assert "| intake: single POSTs ÷ bridge | 0.500 × | ≥ 1.000 × | **no** |" in text
    assert "| aggregator (1 process): ÷ Quix Streams | 1.800 × | ≥ 1.500 × | yes |" in text
    assert "- batched ÷ bridge: **2.000 (1.500–2.750)**" in text
    assert "## 1b. Intake peer" in text
    assert "## 3b. Aggregation peer" in text
    assert "Stage that saturates first: ingest" in text
    data = to_json(report)
    judged = {v["goal"]: v["met"] for v in data["verdicts"]}
    assert judged["intake: batched ÷ bridge (issue 16)"] is True
    assert data["quix"]["events_per_s"]["median"] == 5000
    assert data["peer_ratios"]["batched ÷ bridge"]["low"] == pytest.approx(1.5)
