"""The markdown summary printed at the end of `make bench` and written next to the JSON."""

from __future__ import annotations

import math

from bench.reporting.receipts import RECEIPTS_GOAL, describe_cost
from bench.reporting.results import BenchReport, ReceiptsResult
from bench.reporting.stats import Spread, Verdict
from bench.reporting.verdicts import COMPARISON_GOAL, peer_ratios
from settlement_core.kafka_io import PRODUCER_BATCH_BYTES

# Below this share of one core a service is not what limits the rate.
SATURATED_CPU_PCT = 80.0


def saturated_stage(report: BenchReport) -> str | None:
    """The service using the most CPU at the lowest offered rate that was not sustained: the
    stage that saturates first, as issue 16 asks to name when 6,000 ev/s does not hold. When
    even that service had less than SATURATED_CPU_PCT of a core, none of ours was the limit:
    the machine was (other processes' load, or the broker and databases)."""
    if report.e2e is None:
        return None
    failed = sorted((c for c in report.e2e.cases if not c.sustained), key=lambda c: c.target_rate)
    if not failed or not failed[0].service_cpu_pct:
        return None
    case = failed[0]
    name, cpu = max(case.service_cpu_pct.items(), key=lambda kv: kv[1].median)
    where = f"at {fmt(case.target_rate)} ev/s offered"
    if cpu.median < SATURATED_CPU_PCT:
        return (
            f"none of our services (the busiest, {name}, used {fmt(cpu.median)} % of a core {where}, "
            f"machine busy {fmt(case.machine_busy_pct.median)} %): the machine was the limit"
        )
    return f"{name} ({fmt(cpu.median)} % of a core {where})"


def fmt(value: float, digits: int = 0) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:,.{digits}f}"


def fmt_spread(s: Spread, digits: int = 0) -> str:
    if s.n == 0:
        return "n/a"
    if s.n == 1:
        return fmt(s.median, digits)
    return f"{fmt(s.median, digits)} ({fmt(s.low, digits)}–{fmt(s.high, digits)})"


def _met(v: Verdict) -> str:
    return {True: "yes", False: "**no**", None: "n/a"}[v.met]


def _goal_table(title: str, found: list[Verdict]) -> list[str]:
    if not found:
        return []
    out = [f"## {title}", "", "| goal | measured | target | met |", "|---|---|---|---|"]
    for v in found:
        sign = "≥" if v.higher_is_better else "≤"
        digits = 3 if v.unit == "×" else 0
        goal = v.goal.removesuffix(COMPARISON_GOAL).removesuffix(RECEIPTS_GOAL)
        out.append(
            f"| {goal} | {fmt(v.measured, digits)} {v.unit} | {sign} {fmt(v.threshold, digits)} {v.unit} | {_met(v)} |"
        )
    out.append("")
    return out


def _missing_comparisons(report: BenchReport) -> list[str]:
    needs = {
        "ours ÷ bridge": report.intake and report.bridge,
        "ours ÷ ProducerPerformance": report.intake,
        "aggregator ÷ Quix Streams": report.aggregator and report.quix,
        "aggregator ÷ ConsumerPerformance": report.aggregator,
        "two aggregator processes ÷ one": report.aggregator and report.aggregator_scaled,
        "end to end": report.e2e,
        "ledger bytes per event": report.growth,
    }
    return [name for name, present in needs.items() if not present]


def _peer_sections(report: BenchReport) -> list[str]:
    out: list[str] = []
    if report.bridge:
        b = report.bridge
        out += [
            f"## 1b. Intake peer: {b.peer} (bench/peers/camel_bridge)",
            "",
            "Same cases, wrk and events as stage 1, on a fresh topic with the events topic's settings; "
            "200 after Kafka acks=all for every record of the request.",
            "",
            "| case | events/s | requests/s | p50 ms | p99 ms | errors | bridge CPU % | machine busy % |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in b.cases:
            out.append(
                f"| {c.label} | {fmt_spread(c.events_per_s)} | {fmt_spread(c.requests_per_s)} "
                f"| {fmt_spread(c.p50_ms, 1)} | {fmt_spread(c.p99_ms, 1)} | {fmt(100 * c.error_share, 2)} % "
                f"| {fmt_spread(c.service_cpu_pct)} | {fmt_spread(c.machine_busy_pct)} |"
            )
        out.append("")
    if report.quix:
        q = report.quix
        out += [
            f"## 3b. Aggregation peer: {q.peer} (bench/peers/quix)",
            "",
            f"The aggregator's pre-filled topic ({q.events_prefilled:,} events), fresh group and state per "
            f"repetition, checkpoint every {fmt(q.commit_interval_s, 1)} s: steady rate "
            f"{fmt_spread(q.events_per_s)} events/s from its committed offsets; committed "
            f"{', '.join(f'{n:,}' for n in q.events_committed)} in {', '.join(fmt(s, 1) for s in q.seconds)} s"
            f"{' (time cap reached)' if q.capped else ''}. CPU {fmt_spread(q.service_cpu_pct)} %, "
            f"machine busy {fmt_spread(q.machine_busy_pct)} %.",
            "",
        ]
    return out


def receipts_section(r: ReceiptsResult) -> list[str]:
    """Stage `receipts`: the end-to-end rate with the transparency log off and on."""
    out = [
        "## 4b. End to end with the transparency log off and on (issue 29)",
        "",
        "Stage 4's load on two namespaces side by side, repetitions alternating "
        f"({', '.join(r.rates[0].order) if r.rates else ''}). Off: ingest without the log's keys, no "
        "integrator. On: ingest signs a receipt promise per accepted event, the integrator logs the "
        "ledger. End-to-end rate = events counted by the aggregator per second (committed offsets, "
        "1 %..99 % of the repetition's events).",
        "",
        "| offered ev/s | log | counted ev/s | acknowledged ev/s | p50 ms | p99 ms | dropped | loadgen CPU % "
        "| ingest / aggregate / api / integrator CPU % | machine busy % |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rate in r.rates:
        for label, case, counted in (("off", rate.off, rate.counted_off), ("on", rate.on, rate.counted_on)):
            svc = " / ".join(
                fmt(case.service_cpu_pct[k].median) if k in case.service_cpu_pct else "–"
                for k in ("ingest", "aggregate", "api", "integrator")
            )
            out.append(
                f"| {fmt(rate.target_rate)} | {label} | {fmt_spread(counted)} | {fmt_spread(case.achieved_rate)} "
                f"| {fmt_spread(case.p50_ms)} | {fmt_spread(case.p99_ms)} | {case.dropped_slots} "
                f"| {fmt_spread(case.loadgen_cpu_pct)} | {svc} | {fmt_spread(case.machine_busy_pct)} |"
            )
    out.append("")
    for rate in r.rates:
        out.append(
            f"- at {fmt(rate.target_rate)} ev/s offered: counted on ÷ off **{fmt_spread(rate.ratio, 3)}** "
            f"(repetition pairs {fmt_spread(rate.paired, 3)}; acknowledged {fmt_spread(rate.acked_ratio, 3)}): "
            f"{describe_cost(rate.ratio)}. Integrator backlog when the aggregator had counted everything "
            f"{fmt_spread(rate.log_backlog)} rows, logged within {fmt_spread(rate.log_catch_up_s, 1)} s."
        )
    out += [
        "",
        "CPU µs per counted event (from the start of the load until everything was counted and logged):",
        "",
        "| offered ev/s | log | ingest | aggregate | api | integrator | all |",
        "|---|---|---|---|---|---|---|",
    ]
    for rate in r.rates:
        for label, cpu in (("off", rate.cpu_us_per_event_off), ("on", rate.cpu_us_per_event_on)):
            cells = [fmt_spread(cpu[k]) if k in cpu else "–" for k in ("ingest", "aggregate", "api", "integrator")]
            total = sum(v.median for v in cpu.values())
            out.append(f"| {fmt(rate.target_rate)} | {label} | " + " | ".join(cells) + f" | {fmt(total)} |")
    out += [
        "",
        f"Receipts in the on side's answers and none in the off side's: {'checked' if r.receipts_checked else 'NO'}; "
        f"the on side's log holds {r.log_size:,} leaves for {r.ledger_rows_on:,} ledger rows, "
        f"the off side's {r.log_size_off:,}.",
        "",
    ]
    return out


def markdown(report: BenchReport) -> str:
    out: list[str] = [f"# Benchmark {report.started_at} ({report.mode})", ""]
    host = report.host
    out.append(
        f"Host: {host.get('cpus')} CPUs, load average at start {host.get('loadavg')}, "
        f"commit {host.get('commit')}. Figures are median (min–max) over "
        f"{report.config.get('reps')} repetitions; CPU % is of one core."
    )
    out.append("")
    if report.verdicts:
        absolute = [v for v in report.verdicts if not v.goal.endswith((COMPARISON_GOAL, RECEIPTS_GOAL))]
        comparisons = [v for v in report.verdicts if v.goal.endswith(COMPARISON_GOAL)]
        log_cost = [v for v in report.verdicts if v.goal.endswith(RECEIPTS_GOAL)]
        ratios = peer_ratios(report)
        out += _goal_table("Goals of issue 6 (reported, not asserted)", absolute)
        out += _goal_table("Goals of issue 16: against the peers, one run (reported, not asserted)", comparisons)
        out += _goal_table("Goal of issue 29: the transparency log's cost, one run (reported, not asserted)", log_cost)
        if ratios:
            out += ["Peer ratios, median (min–max over the repetitions):", ""]
            out += [f"- {name}: **{fmt_spread(value, 3)}**" for name, value in ratios.items()]
            out.append("")
        missing = _missing_comparisons(report)
        if missing:
            out += [f"Not measured in this run (stage not run or failed): {', '.join(missing)}.", ""]
    if report.intake:
        i = report.intake
        out += [
            "## 1–2. Intake (HTTP 202 after Kafka acks=all)",
            "",
            "| case | events/s | requests/s | p50 ms | p99 ms | errors | loadgen CPU % | "
            "ingest CPU % | machine busy % |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for ic in i.cases:
            out.append(
                f"| {ic.label} ({ic.loadgen}) | {fmt_spread(ic.events_per_s)} | {fmt_spread(ic.requests_per_s)} "
                f"| {fmt_spread(ic.p50_ms, 1)} | {fmt_spread(ic.p99_ms, 1)} | "
                f"{fmt(100 * ic.error_share, 2)} % | {fmt_spread(ic.loadgen_cpu_pct)} | "
                f"{fmt_spread(ic.service_cpu_pct)} | {fmt_spread(ic.machine_busy_pct)} |"
            )
        if i.anchor:
            a = i.anchor
            out += [
                "",
                f"ProducerPerformance ({a.records:,} records of {a.record_size} B, acks=all, "
                f"idempotent, linger 2 ms, batch.size {PRODUCER_BATCH_BYTES // 1024} KiB, 12 partitions): "
                f"{fmt_spread(a.records_per_s)} records/s, "
                f"p50 {fmt_spread(a.p50_ms)} ms, p99 {fmt_spread(a.p99_ms)} ms, "
                f"CPU {fmt_spread(a.cpu_pct)} %.",
                f"Ours ({i.best_batched}) ÷ ProducerPerformance: **{fmt_spread(i.batched_vs_producer_perf, 3)}**.",
            ]
        out.append("")
    peers = _peer_sections(report)
    if report.aggregator:
        out += [
            "## 3. Aggregator (ledger transaction + fenced Redis apply)",
            "",
            f"Topic pre-filled with {report.aggregator.events_prefilled:,} events in "
            f"{fmt(report.aggregator.prefill_seconds, 1)} s.",
        ]
    for g in (report.aggregator, report.aggregator_scaled):
        if g is None:
            continue
        who = (
            "One aggregator process"
            if g.instances == 1
            else f"{g.instances} aggregator processes in one consumer group (aggregate CPU is their sum)"
        )
        out += [
            "",
            f"{who}: steady rate {fmt_spread(g.events_per_s)} events/s; applied per repetition "
            f"{', '.join(f'{n:,}' for n in g.events_applied)} in "
            f"{', '.join(fmt(s, 1) for s in g.seconds)} s"
            f"{' (time cap reached)' if g.capped else ''}; ledger rows "
            f"{', '.join(f'{n:,}' for n in g.ledger_rows)}. Aggregate CPU "
            f"{fmt_spread(g.service_cpu_pct)} %, machine busy {fmt_spread(g.machine_busy_pct)} %.",
        ]
        if g.anchor:
            out.append(
                f"ConsumerPerformance on the same topic: {fmt_spread(g.anchor.fetch_records_per_s)} "
                f"records/s (fetch), {fmt_spread(g.anchor.records_per_s)} with the group join. "
                f"Ours ÷ Kafka's: **{fmt_spread(g.vs_consumer_perf, 3)}**."
            )
    if report.aggregator:
        out.append("")
    out += peers
    if report.e2e:
        out += [
            "## 4. End to end (202 → visible in GET /v1/progress)",
            "",
            "| offered ev/s | achieved ev/s | p50 ms | p99 ms | max ms | probes seen | dropped "
            "| sustained | loadgen CPU % | ingest / aggregate / api CPU % |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for c in report.e2e.cases:
            svc = " / ".join(
                fmt(c.service_cpu_pct[k].median) for k in ("ingest", "aggregate", "api") if k in c.service_cpu_pct
            )
            out.append(
                f"| {fmt(c.target_rate)} | {fmt_spread(c.achieved_rate)} | {fmt_spread(c.p50_ms)} "
                f"| {fmt_spread(c.p99_ms)} | {fmt_spread(c.max_ms)} | {c.probes_seen}/{c.probes_acked} "
                f"| {c.dropped_slots} | {'yes' if c.sustained else 'no'} | "
                f"{fmt_spread(c.loadgen_cpu_pct)} | {svc} |"
            )
        out += ["", f"Highest sustained rate: **{fmt(report.e2e.highest_sustained_rate or math.nan)} events/s**."]
        saturated = saturated_stage(report)
        if saturated:
            out.append(f"Stage that saturates first: {saturated}.")
        out.append("")
    if report.receipts:
        out += receipts_section(report.receipts)
    if report.reads:
        levels = sorted({c.history_events for c in report.reads.cases})
        out += [
            "## 5. Reads (p50 / p99 ms, concurrency 1)",
            "",
            "| endpoint | " + " | ".join(f"{n:,} events" for n in levels) + " | ratio p50 | ratio p99 |",
            "|---|" + "---|" * (len(levels) + 2),
        ]
        for r in report.reads.ratios:
            cells = []
            for n in levels:
                rc = next(c for c in report.reads.cases if c.endpoint == r.endpoint and c.history_events == n)
                cells.append(f"{fmt(rc.p50_ms.median, 1)} / {fmt(rc.p99_ms.median, 1)}")
            out.append(
                f"| {r.endpoint} | " + " | ".join(cells) + f" | {fmt_spread(r.p50, 2)} | {fmt_spread(r.p99, 2)} |"
            )
        out.append("")
    if report.growth:
        gr = report.growth
        out += [
            "## 6. Growth",
            "",
            "| history events | load s | Redis MB | Redis hash fields | PostgreSQL MB |",
            "|---|---|---|---|---|",
        ]
        for gp in gr.points:
            out.append(
                f"| {gp.history_events:,} | {fmt(gp.load_seconds, 1)} | {fmt(gp.redis_bytes / 1e6, 1)} "
                f"| {gp.redis_fields:,} | {fmt(gp.pg_bytes / 1e6)} |"
            )
        out += [
            "",
            f"Per million events: Redis {fmt(gr.redis_bytes_per_million / 1e6, 1)} MB, "
            f"PostgreSQL {fmt(gr.pg_bytes_per_million / 1e6)} MB.",
        ]
        if gr.rebuild_events:
            out.append(
                f"`settlementctl rebuild` at {gr.rebuild_events:,} events: {fmt_spread(gr.rebuild_seconds, 1)} s."
            )
        if gr.rebuild_check:
            ch = gr.rebuild_check
            out.append(
                f"Bulk path vs rebuild: {ch.fields_different:,} of {ch.fields_compared:,} "
                f"Redis fields differ, fences equal: {ch.fences_equal}, reconcile exit "
                f"{ch.reconcile_exit}."
            )
        out.append("")
    if report.profile:
        p = report.profile
        out += [
            f'## 7. Profile: {p.service} under the load of "{p.stage}", {p.tool}, {fmt(p.seconds)} s, '
            f"{p.samples:,} on-CPU samples ({p.idle_samples:,} idle left out)",
            "",
            "Top functions by own time (share of on-CPU samples):",
            "",
            "| self % | total % | function |",
            "|---|---|---|",
        ]
        out += [f"| {fmt(r.self_pct, 1)} | {fmt(r.total_pct, 1)} | `{r.function}` |" for r in p.by_self]
        out += [
            "",
            "Our code (settlement_*) by inclusive time:",
            "",
            "| total % | self % | function |",
            "|---|---|---|",
        ]
        out += [f"| {fmt(r.total_pct, 1)} | {fmt(r.self_pct, 1)} | `{r.function}` |" for r in p.by_total]
        out.append("")
    if report.errors:
        out += ["## Stages that failed", ""]
        out += [f"- **{stage}**: {message}" for stage, message in report.errors.items()]
        out.append("")
    return "\n".join(out)
