"""Pure judging of a BenchReport: the goal verdicts, the ratios against the peers, and the
choice of what to profile."""

from __future__ import annotations

import math

from bench.reporting.receipts import log_cost_verdict
from bench.reporting.results import KNOWN_AT_CASE, KNOWN_AT_GOAL_MS, BenchReport, IntakeCase
from bench.reporting.stats import Spread, Verdict, ratio

# Which service to profile when a goal is missed: the stage's own hot path.
SERVICE_OF_GOAL = {"intake": "ingest", "aggregator": "aggregate", "e2e": "aggregate", "reads": "api"}


# Issue 16's goal for the ledger: fewer bytes per event in PostgreSQL than on 2026-12-02.
LEDGER_BYTES_PER_EVENT_BEFORE = 561.0
# Appended to the goals set against the peers and anchors in one run (issue 16), which the
# summary tables apart from the absolute goals (issue 6); part of the JSON's goal names.
COMPARISON_GOAL = " (issue 16)"


def _case(cases: tuple[IntakeCase, ...], label: str) -> IntakeCase:
    return next(c for c in cases if c.label == label)


def peer_ratios(report: BenchReport) -> dict[str, Spread]:
    """Issue 16's ratios that need two measurements of one run: ours ÷ the intake peer (best
    single-POST req/s, best batched ev/s), one aggregator ÷ Quix Streams, two aggregator
    processes ÷ one. A ratio whose two sides did not both run is absent."""
    found: dict[str, Spread] = {}
    if report.intake and report.bridge:
        ours, peer = report.intake.cases, report.bridge.cases
        found["single POSTs ÷ bridge"] = ratio(
            _case(ours, report.intake.best_single).requests_per_s,
            _case(peer, report.bridge.best_single).requests_per_s,
        )
        found["batched ÷ bridge"] = ratio(
            _case(ours, report.intake.best_batched).events_per_s,
            _case(peer, report.bridge.best_batched).events_per_s,
        )
    if report.aggregator and report.quix:
        found["aggregator ÷ Quix Streams"] = ratio(report.aggregator.events_per_s, report.quix.events_per_s)
    if report.aggregator and report.aggregator_scaled:
        found[f"aggregator {report.aggregator_scaled.instances} processes ÷ 1"] = ratio(
            report.aggregator_scaled.events_per_s, report.aggregator.events_per_s
        )
    return found


def comparison_verdicts(report: BenchReport) -> list[Verdict]:
    """Every goal set against the peers and anchors (issue 16), from one run; a goal whose
    stages did not run is left out."""
    found: list[Verdict] = []
    ratios = peer_ratios(report)
    if "single POSTs ÷ bridge" in ratios:
        found.append(
            Verdict(
                "intake: single POSTs ÷ bridge" + COMPARISON_GOAL,
                ratios["single POSTs ÷ bridge"].median,
                1.0,
                True,
                "×",
            )
        )
        found.append(
            Verdict("intake: batched ÷ bridge" + COMPARISON_GOAL, ratios["batched ÷ bridge"].median, 1.0, True, "×")
        )
    if report.intake:
        found.append(
            Verdict(
                "intake: batched ÷ ProducerPerformance" + COMPARISON_GOAL,
                report.intake.batched_vs_producer_perf.median,
                0.15,
                True,
                "×",
            )
        )
    if "aggregator ÷ Quix Streams" in ratios:
        found.append(
            Verdict(
                "aggregator (1 process): ÷ Quix Streams" + COMPARISON_GOAL,
                ratios["aggregator ÷ Quix Streams"].median,
                1.5,
                True,
                "×",
            )
        )
    if report.aggregator:
        found.append(
            Verdict(
                "aggregator (1 process): ÷ ConsumerPerformance" + COMPARISON_GOAL,
                report.aggregator.vs_consumer_perf.median,
                0.03,
                True,
                "×",
            )
        )
    if report.aggregator and report.aggregator_scaled:
        n = report.aggregator_scaled.instances
        found.append(
            Verdict(
                f"aggregator: {n} processes ÷ 1" + COMPARISON_GOAL,
                ratios[f"aggregator {n} processes ÷ 1"].median,
                1.8,
                True,
                "×",
            )
        )
    if report.e2e:
        found.append(
            Verdict(
                "e2e: highest sustained rate" + COMPARISON_GOAL,
                report.e2e.highest_sustained_rate or 0.0,
                6_000,
                True,
                "ev/s",
            )
        )
        at_1k = next((c for c in report.e2e.cases if c.target_rate == 1000), None)
        if at_1k is not None:
            found.append(Verdict("e2e: p99 at 1,000 ev/s" + COMPARISON_GOAL, at_1k.p99_ms.median, 500, False, "ms"))
    if report.growth:
        found.append(
            Verdict(
                "growth: PostgreSQL bytes per event" + COMPARISON_GOAL,
                report.growth.pg_bytes_per_million / 1e6,
                LEDGER_BYTES_PER_EVENT_BEFORE,
                False,
                "B",
            )
        )
    return found


def verdicts(report: BenchReport) -> tuple[Verdict, ...]:
    """The absolute goals (issue 6), the comparisons (issue 16), then the log's cost (issue 29)."""
    found: list[Verdict] = []
    if report.intake:
        intake = report.intake
        batched = next(c for c in intake.cases if c.label == intake.best_batched)
        single = next(c for c in intake.cases if c.label == intake.best_single)
        found += [
            Verdict("intake: batched events/s", batched.events_per_s.median, 20_000, True, "ev/s"),
            Verdict("intake: batched ÷ ProducerPerformance", intake.batched_vs_producer_perf.median, 0.25, True, "×"),
            Verdict("intake: single POST req/s", single.requests_per_s.median, 2_000, True, "req/s"),
        ]
    for agg in (report.aggregator, report.aggregator_scaled):
        if agg is None:
            continue
        label = "1 process" if agg.instances == 1 else f"{agg.instances} processes"
        found += [
            Verdict(f"aggregator ({label}): events/s", agg.events_per_s.median, 30_000, True, "ev/s"),
            Verdict(f"aggregator ({label}): ÷ ConsumerPerformance", agg.vs_consumer_perf.median, 0.3, True, "×"),
        ]
    if report.e2e:
        at_1k = next((c for c in report.e2e.cases if c.target_rate == 1000), None)
        if at_1k is not None:
            found.append(Verdict("e2e: p99 at 1,000 ev/s", at_1k.p99_ms.median, 500, False, "ms"))
        found.append(
            Verdict("e2e: highest sustained rate", report.e2e.highest_sustained_rate or 0.0, 6_000, True, "ev/s")
        )
    if report.reads:
        for r in report.reads.ratios:
            if r.endpoint == KNOWN_AT_CASE:
                largest = next(
                    c for c in report.reads.cases if c.endpoint == r.endpoint and c.history_events == r.largest
                )
                found.append(
                    Verdict(
                        f"reads: {r.endpoint} p50 at {r.largest:,}",
                        largest.p50_ms.median,
                        KNOWN_AT_GOAL_MS,
                        False,
                        "ms",
                    )
                )
                continue
            found.append(
                Verdict(f"reads: {r.endpoint} p50 at {r.largest:,} ÷ at {r.smallest:,}", r.p50.median, 1.5, False, "×")
            )
    receipts = [log_cost_verdict(r.target_rate, r.ratio) for r in report.receipts.rates] if report.receipts else []
    return (*found, *comparison_verdicts(report), *receipts)


def stage_of(goal: str) -> str:
    """ "aggregator (2 processes): events/s" -> "aggregator"."""
    return goal.split(":", 1)[0].split(" (", 1)[0]


def slowest(found: tuple[Verdict, ...]) -> tuple[str, str] | None:
    """(goal, service) of the goal missed by the widest margin; the lowest attainment if all
    are met (there is always a slowest stage). The goal names the load to profile under."""
    ranked = [v for v in found if not math.isnan(v.attainment) and stage_of(v.goal) in SERVICE_OF_GOAL]
    if not ranked:
        return None
    worst = min(ranked, key=lambda v: v.attainment)
    return worst.goal, SERVICE_OF_GOAL[stage_of(worst.goal)]
