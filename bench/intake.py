"""Stage 1 + 2: intake throughput and latency, anchored on Kafka's ProducerPerformance."""

from __future__ import annotations

import uuid

from bench.config import BenchConfig, Log
from bench.kafka_tools import producer_performance, record_size
from bench.namespace import delete_topics, open_namespace
from bench.processes import ServiceProcess, machine_busy_percent, machine_mark, run_loadgen
from bench.results import IntakeCase, IntakeResult, ProducerAnchor
from bench.stats import cpu_percent, latency, rate, ratio, spread

from settlement_core.kafka_io import ensure_topics


def _case(cfg: BenchConfig, ingest: ServiceProcess, keys: list[str], concurrency: int,
          batch: int, log: Log) -> IntakeCase:
    label = f"batch {batch}, c={concurrency}" if batch else f"single, c={concurrency}"
    events, requests, p50, p99, lg_cpu, svc_cpu, busy = [], [], [], [], [], [], []
    statuses: dict[str, int] = {}
    for rep in range(cfg.reps):
        spec = {"mode": "closed", "url": ingest.url, "keys": keys, "concurrency": concurrency,
                "batch": batch, "duration": cfg.intake_seconds, "warmup": cfg.intake_warmup,
                "id_prefix": f"i{uuid.uuid4().hex[:10]}"}
        cpu0, mark0 = ingest.cpu_seconds(), machine_mark()
        run = run_loadgen(spec, timeout=cfg.intake_seconds + cfg.intake_warmup + 120)
        cpu1, mark1 = ingest.cpu_seconds(), machine_mark()
        report = run.report
        lat = latency(report["latencies"])
        events.append(rate(report["events"], report["seconds"]))
        requests.append(rate(report["requests"], report["seconds"]))
        p50.append(lat.p50_ms)
        p99.append(lat.p99_ms)
        lg_cpu.append(cpu_percent(report["self_cpu_seconds"], run.wall_seconds))
        svc_cpu.append(cpu_percent(cpu1 - cpu0, mark1.at - mark0.at))
        busy.append(machine_busy_percent(mark0, mark1))
        for status, count in report["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
        log(f"  {label} rep {rep + 1}: {events[-1]:.0f} ev/s, p50 {lat.p50_ms:.1f} ms, "
            f"p99 {lat.p99_ms:.1f} ms, statuses {report['statuses']}")
    total = sum(statuses.values())
    ok = statuses.get("200", 0) + statuses.get("202", 0)
    return IntakeCase(label=label, concurrency=concurrency, batch=batch,
                      events_per_s=spread(events), requests_per_s=spread(requests),
                      p50_ms=spread(p50), p99_ms=spread(p99),
                      error_share=(total - ok) / total if total else float("nan"),
                      statuses=statuses, loadgen_cpu_pct=spread(lg_cpu),
                      service_cpu_pct=spread(svc_cpu), machine_busy_pct=spread(busy))


def producer_anchor(cfg: BenchConfig, bootstrap: str, tag: str, log: Log) -> ProducerAnchor:
    """ProducerPerformance on a topic with the events topic's settings (12 partitions,
    replication 1, min.insync.replicas 1), our record size and producer settings."""
    size = record_size()
    topic = f"bench.{tag}.producer-perf"
    ensure_topics(bootstrap, {topic: 12})
    rates, p50, p99, cpu = [], [], [], []
    try:
        for rep in range(cfg.reps):
            run = producer_performance(bootstrap, topic, cfg.producer_perf_records, size)
            rates.append(run.summary.records_per_s)
            p50.append(run.summary.p50_ms)
            p99.append(run.summary.p99_ms)
            cpu.append(cpu_percent(run.cpu_seconds, run.wall_seconds))
            log(f"  ProducerPerformance rep {rep + 1}: {run.summary.records_per_s:.0f} rec/s, "
                f"p99 {run.summary.p99_ms:.0f} ms")
    finally:
        delete_topics(bootstrap, [topic])
    return ProducerAnchor(record_size=size, records=cfg.producer_perf_records,
                          records_per_s=spread(rates), p50_ms=spread(p50), p99_ms=spread(p99),
                          cpu_pct=spread(cpu))


def run_intake(cfg: BenchConfig, base: dict[str, str], log: Log, keep: bool = False) -> IntakeResult:
    with open_namespace(base, "intake", keep=keep) as ns:
        keys = [b.key for b in ns.add_banks(cfg.intake_banks)]
        ingest = ServiceProcess("ingest", ns.env, ns.tag)
        try:
            ingest.wait_healthy()
            # Untimed warm-up: producer connection, metadata, first-request imports.
            run_loadgen({"mode": "closed", "url": ingest.url, "keys": keys, "concurrency": 4,
                         "batch": 10, "duration": 1.0, "warmup": 0.0,
                         "id_prefix": f"w{uuid.uuid4().hex[:8]}"}, timeout=120)
            cases = [_case(cfg, ingest, keys, c, 0, log) for c in cfg.single_concurrency]
            cases += [_case(cfg, ingest, keys, cfg.batch_concurrency, b, log) for b in cfg.batch_sizes]
        finally:
            ingest.stop()
        anchor = producer_anchor(cfg, base["KAFKA_BOOTSTRAP"], ns.tag, log)
    batched = [c for c in cases if c.batch]
    singles = [c for c in cases if not c.batch]
    best_batched = max(batched, key=lambda c: c.events_per_s.median)
    best_single = max(singles, key=lambda c: c.requests_per_s.median)
    return IntakeResult(cases=tuple(cases), anchor=anchor, best_batched=best_batched.label,
                        best_single=best_single.label,
                        batched_vs_producer_perf=ratio(best_batched.events_per_s,
                                                       anchor.records_per_s))
