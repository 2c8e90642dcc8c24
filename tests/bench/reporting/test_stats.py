"""The benchmark's pure code: statistics, tool-output parsing, goal verdicts and summary."""

from __future__ import annotations

import dataclasses
import math

import pytest
from bench.config import FULL
from bench.reporting.markdown import fmt_spread, markdown
from bench.reporting.results import (
    AggregatorResult,
    BenchReport,
    ConsumerAnchor,
    IntakeCase,
    IntakeResult,
    ProducerAnchor,
    to_json,
)
from bench.reporting.stats import (
    Verdict,
    cpu_percent,
    is_sustained,
    latency,
    percentile,
    ratio,
    spread,
    steady_rate,
)
from bench.reporting.tool_output import (
    hot_functions,
    machine_cpu_ticks,
    parse_consumer_performance,
    parse_producer_performance,
    parse_wrk,
    proc_cpu_ticks,
)
from bench.reporting.verdicts import slowest, verdicts


def test_percentile_interpolates_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 99) == pytest.approx(3.97)
    assert percentile([5.0], 99) == 5.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile(values, 101)


def test_spread_is_median_and_min_max_ignoring_nan() -> None:
    s = spread([3.0, 1.0, float("nan"), 2.0])
    assert (s.median, s.low, s.high, s.n) == (2.0, 1.0, 3.0, 3)
    assert s.relative_spread == 1.0
    assert spread([]).n == 0


def test_ratio_widens_with_both_spreads() -> None:
    ours = spread([10.0, 12.0, 14.0])
    theirs = spread([40.0, 50.0, 60.0])
    r = ratio(ours, theirs)
    assert r.median == pytest.approx(12 / 50)
    assert r.low == pytest.approx(10 / 60)
    assert r.high == pytest.approx(14 / 40)
    assert ratio(ours, spread([])).n == 0


def test_latency_summary_in_milliseconds() -> None:
    lat = latency([0.001] * 98 + [0.5, 1.0])
    assert lat.count == 100
    assert lat.p50_ms == pytest.approx(1.0)
    assert lat.max_ms == pytest.approx(1000.0)
    assert 500.0 < lat.p99_ms < 1000.0
    assert math.isnan(latency([]).p99_ms)


def test_cpu_percent_is_of_one_core() -> None:
    assert cpu_percent(3.0, 2.0) == 150.0
    assert math.isnan(cpu_percent(1.0, 0.0))


def test_steady_rate_excludes_startup_and_tail() -> None:
    # 10 s of start-up with nothing applied, then 1,000 events/s, then a slow tail.
    samples = [(0.0, 0.0), (10.0, 0.0), (11.0, 1000.0), (20.0, 10_000.0), (25.0, 10_000.0)]
    assert steady_rate(samples, 10_000, end_fraction=0.99) == pytest.approx(1000.0)
    assert math.isnan(steady_rate(samples[:1], 10_000))


def test_verdict_orientation() -> None:
    fast = Verdict("x", 25_000, 20_000, True, "ev/s")
    slow = Verdict("y", 800, 500, False, "ms")
    assert fast.met is True
    assert fast.attainment == pytest.approx(1.25)
    assert slow.met is False
    assert slow.attainment == pytest.approx(0.625)
    assert Verdict("z", float("nan"), 1, True, "").met is None


PRODUCER_OUTPUT = (
    "50000 records sent, 10000.0 records/sec (2.74 MB/sec), 12.3 ms avg latency, "
    "800.0 ms max latency.\n"
    "100000 records sent, 18034.265104 records/sec (4.94 MB/sec), 542.62 ms avg latency, "
    "676.00 ms max latency, 553 ms 50th, 640 ms 95th, 666 ms 99th, 675 ms 99.9th.\n"
)

CONSUMER_OUTPUT = (
    "[main] INFO org.apache.kafka.tools.ConsumerPerformance - Starting consumer...\n"
    "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, "
    "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n"
    "2026-11-30 06:18:32:123, 2026-11-30 06:18:33:268, 6.0248, 5.2334, 22000, 19213.9738, "
    "845, 300, 20.0827, 73333.3333\n"
)


def test_parse_kafka_tool_outputs() -> None:
    producer = parse_producer_performance(PRODUCER_OUTPUT)
    assert producer.records == 100_000
    assert producer.records_per_s == pytest.approx(18034.265104)
    assert (producer.p50_ms, producer.p99_ms) == (553.0, 666.0)
    consumer = parse_consumer_performance(CONSUMER_OUTPUT)
    assert consumer.records == 22_000
    assert consumer.fetch_records_per_s == pytest.approx(73333.3333)
    assert consumer.rebalance_ms == 845.0
    with pytest.raises(ValueError, match="ProducerPerformance"):
        parse_producer_performance("nothing")


def test_hot_functions_from_collapsed_stacks() -> None:
    collapsed = "\n".join(
        [
            'process 1:"python";main (app/main.py:10);work (app/work.py:3);hash (app/h.py:7) 60',
            'process 1:"python";main (app/main.py:10);work (app/work.py:4) 30',
            'process 1:"python";main (app/main.py:11);idle (app/idle.py:1) 10',
            'process 1:"python";run (asyncio/base_events.py:1);select (selectors.py:468) 500',
        ]
    )
    profile = hot_functions(collapsed, top=5)
    assert profile.samples == 100
    assert profile.idle_samples == 500
    assert profile.by_self[0].function == "hash (app/h.py)"
    assert profile.by_self[0].self_pct == pytest.approx(60.0)
    work = next(r for r in profile.by_self if r.function == "work (app/work.py)")
    assert work.total_pct == pytest.approx(90.0)  # two lines of one function, merged
    # main is on every stack: an entry point, left out of the inclusive ranking.
    assert all(r.function != "main (app/main.py)" for r in profile.by_total)
    focused = hot_functions(collapsed, focus=("app/h.py",))
    assert [r.function for r in focused.by_total] == ["hash (app/h.py)"]


def test_proc_counters() -> None:
    stat = "1234 (python -m (x)) S 1 2 3 4 5 6 7 8 9 10 100 50 7 3 20 0 1 0"
    assert proc_cpu_ticks(stat) == 160
    busy, total = machine_cpu_ticks("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n")
    assert (busy, total) == (150, 1000)


def _intake(events: list[float], single_rps: list[float], producer: list[float]) -> IntakeResult:
    def case(label: str, batch: int, ev: list[float], rps: list[float]) -> IntakeCase:
        return IntakeCase(
            label,
            4,
            batch,
            "wrk",
            spread(ev),
            spread(rps),
            spread([5.0]),
            spread([9.0]),
            0.0,
            {"202": 10},
            spread([50.0]),
            spread([90.0]),
            spread([99.0]),
        )

    batched = case("batch 100, c=4", 100, events, [e / 100 for e in events])
    single = case("single, c=8", 0, single_rps, single_rps)
    anchor = ProducerAnchor(287, 1000, spread(producer), spread([1.0]), spread([2.0]), spread([80.0]))
    return IntakeResult(
        (single, batched), anchor, batched.label, single.label, ratio(batched.events_per_s, anchor.records_per_s)
    )


def test_verdicts_pick_the_slowest_stage_and_render() -> None:
    intake = _intake([21_000, 22_000, 23_000], [2500, 2600, 2700], [60_000, 60_000, 60_000])
    aggregator = AggregatorResult(
        events_prefilled=1000,
        prefill_seconds=1.0,
        events_per_s=spread([3000, 3100, 3200]),
        events_applied=(1000,),
        ledger_rows=(1000,),
        seconds=(1.0,),
        capped=False,
        service_cpu_pct=spread([95.0]),
        machine_busy_pct=spread([99.0]),
        anchor=ConsumerAnchor(1000, spread([100_000]), spread([50_000]), spread([90.0])),
        vs_consumer_perf=ratio(spread([3000, 3100, 3200]), spread([100_000])),
    )
    scaled = dataclasses.replace(aggregator, events_per_s=spread([5000, 5100, 5200]), instances=2)
    report = BenchReport(
        "2026-11-30T08:00:00+00:00",
        "2026-11-30T08:40:00+00:00",
        "quick",
        {"cpus": 2},
        {"reps": 3},
        intake=intake,
        aggregator=aggregator,
        aggregator_scaled=scaled,
    )
    found = verdicts(report)
    met = {v.goal: v.met for v in found}
    assert met["intake: batched events/s"] is True
    assert met["intake: single POST req/s"] is True
    assert met["intake: batched ÷ ProducerPerformance"] is True
    assert met["aggregator (1 process): events/s"] is False
    assert met["aggregator (2 processes): events/s"] is False
    assert slowest(found) == ("aggregator (1 process): events/s", "aggregate")
    text = markdown(dataclasses.replace(report, verdicts=found))
    assert "ProducerPerformance" in text
    assert "## 3. Aggregator" in text
    assert "| aggregator (1 process): events/s | 3,100 ev/s | ≥ 30,000 ev/s | **no** |" in text
    assert "| aggregator (2 processes): events/s | 5,100 ev/s | ≥ 30,000 ev/s | **no** |" in text
    assert "2 aggregator processes in one consumer group" in text
    assert fmt_spread(spread([1.0, 2.0, 3.0])) == "2 (1–3)"
    data = to_json(report)
    assert data["aggregator"]["events_per_s"]["median"] == 3100


def test_json_has_no_nan() -> None:
    report = BenchReport("a", "b", "quick", {}, {}, errors={"e2e": "boom"})
    data = to_json(report)
    assert data["errors"] == {"e2e": "boom"}
    bad = to_json(BenchReport("a", "b", "q", {"x": float("nan")}, {}))
    assert bad["host"]["x"] is None


def test_parse_wrk_bench_line() -> None:
    output = (
        "Running 2s test @ http://127.0.0.1:1234\n"
        'BENCH {"requests":200,"duration_us":2000000,"accepted":19000,"ok":190,"bad":10,'
        '"p50_us":1500,"p99_us":9000,"max_us":12000,"connect_errors":0,"read_errors":1,'
        '"write_errors":0,"timeouts":2}\n'
    )
    summary = parse_wrk(output)
    assert summary.accepted == 19_000
    assert summary.seconds == 2.0
    assert summary.p99_ms == 9.0
    assert summary.socket_errors == 3
    with pytest.raises(ValueError, match="BENCH"):
        parse_wrk("Running 2s test")


def test_sustained_needs_rate_no_drops_no_errors_and_all_probes_seen() -> None:
    assert is_sustained(1000, 990, dropped=0, acked=300, seen=300, error_share=0.0)
    assert not is_sustained(1000, 900, dropped=0, acked=300, seen=300, error_share=0.0)
    assert not is_sustained(1000, 990, dropped=3, acked=300, seen=300, error_share=0.0)
    assert not is_sustained(1000, 990, dropped=0, acked=300, seen=299, error_share=0.0)
    assert not is_sustained(1000, 990, dropped=0, acked=300, seen=300, error_share=0.02)


def test_scale_keeps_the_read_baseline_and_a_valid_rebuild_level() -> None:
    small = FULL.scaled(0.2)
    assert small.history_levels == (10_000, 200_000, 2_000_000)
    assert small.rebuild_level == 200_000
    assert small.aggregator_events == 200_000
    assert FULL.scaled(1.0) is FULL
