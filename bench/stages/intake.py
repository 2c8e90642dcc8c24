"""Stage 1 + 2: intake throughput and latency, anchored on Kafka's ProducerPerformance."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bench.config import BenchConfig, Log
from bench.harness.kafka import EVENTS_PARTITIONS, bench_access, delete_topics
from bench.harness.namespace import open_namespace
from bench.harness.processes import ServiceProcess, machine_busy_percent, machine_mark, run_loadgen
from bench.load.prefill import record_size
from bench.load.wrk import ensure_wrk, run_wrk
from bench.peers.kafka_tools import producer_performance
from bench.reporting.results import IntakeCase, IntakeResult, ProducerAnchor
from bench.reporting.stats import cpu_percent, latency, rate, ratio, spread
from settlement_core.kafka_io import KafkaAccess, ensure_topics


class Endpoint(Protocol):
    """What an intake case is measured against: ingest, or the intake peer."""

    @property
    def url(self) -> str: ...

    def cpu_seconds(self) -> float: ...


@dataclass(frozen=True, slots=True)
class IntakeRep:
    events_per_s: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    loadgen_cpu_seconds: float
    wall_seconds: float
    statuses: dict[str, int]


def _rep_wrk(
    cfg: BenchConfig,
    wrk: str,
    url: str,
    keys: list[str],
    concurrency: int,
    batch: int,
    seconds: float,
    target: dict[str, str] | None = None,
) -> IntakeRep:
    run = run_wrk(wrk, url, keys, batch, concurrency, seconds, f"w{uuid.uuid4().hex[:10]}", target)
    s = run.summary
    statuses = {"2xx": s.ok, "other": s.bad, "socket errors": s.socket_errors}
    return IntakeRep(
        rate(s.accepted, s.seconds),
        rate(s.requests, s.seconds),
        s.p50_ms,
        s.p99_ms,
        run.cpu_seconds,
        run.wall_seconds,
        {k: v for k, v in statuses.items() if v},
    )


def _rep_python(cfg: BenchConfig, url: str, keys: list[str], concurrency: int, batch: int) -> IntakeRep:
    spec = {
        "mode": "closed",
        "url": url,
        "keys": keys,
        "concurrency": concurrency,
        "batch": batch,
        "duration": cfg.intake_seconds,
        "warmup": cfg.intake_warmup,
        "id_prefix": f"i{uuid.uuid4().hex[:10]}",
    }
    run = run_loadgen(spec, timeout=cfg.intake_seconds + cfg.intake_warmup + 120)
    report = run.report
    lat = latency(report["latencies"])
    return IntakeRep(
        rate(report["events"], report["seconds"]),
        rate(report["requests"], report["seconds"]),
        lat.p50_ms,
        lat.p99_ms,
        report["self_cpu_seconds"],
        run.wall_seconds,
        report["statuses"],
    )


def measure_case(
    cfg: BenchConfig,
    ingest: Endpoint,
    keys: list[str],
    concurrency: int,
    batch: int,
    wrk: str | None,
    log: Log,
    target: dict[str, str] | None = None,
) -> IntakeCase:
    """One intake case (single POSTs or batches at one concurrency) over cfg.reps repetitions.
    `target` points wrk at the intake peer instead (bench/peers/camel_bridge); it needs wrk."""
    label = f"batch {batch}, c={concurrency}" if batch else f"single, c={concurrency}"
    if target and not wrk:
        raise RuntimeError("the intake peer is driven by wrk only, and wrk is not available")
    if wrk:
        # Untimed warm-up at this concurrency: connections, first-request paths.
        _rep_wrk(cfg, wrk, ingest.url, keys, concurrency, batch, cfg.intake_warmup, target)
    reps: list[IntakeRep] = []
    svc_cpu, busy = [], []
    statuses: dict[str, int] = {}
    for n in range(cfg.reps):
        cpu0, mark0 = ingest.cpu_seconds(), machine_mark()
        rep = (
            _rep_wrk(cfg, wrk, ingest.url, keys, concurrency, batch, cfg.intake_seconds, target)
            if wrk
            else _rep_python(cfg, ingest.url, keys, concurrency, batch)
        )
        cpu1, mark1 = ingest.cpu_seconds(), machine_mark()
        reps.append(rep)
        svc_cpu.append(cpu_percent(cpu1 - cpu0, mark1.at - mark0.at))
        busy.append(machine_busy_percent(mark0, mark1))
        for status, count in rep.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
        log(
            f"  {label} rep {n + 1}: {rep.events_per_s:.0f} ev/s, {rep.requests_per_s:.0f} req/s, "
            f"p50 {rep.p50_ms:.1f} ms, p99 {rep.p99_ms:.1f} ms, {rep.statuses}, "
            f"{'bridge' if target else 'ingest'} CPU {svc_cpu[-1]:.0f} %"
        )
    total = sum(statuses.values())
    ok = sum(v for k, v in statuses.items() if k in ("200", "202", "2xx"))
    return IntakeCase(
        label=label,
        concurrency=concurrency,
        batch=batch,
        loadgen="wrk" if wrk else "python",
        events_per_s=spread([r.events_per_s for r in reps]),
        requests_per_s=spread([r.requests_per_s for r in reps]),
        p50_ms=spread([r.p50_ms for r in reps]),
        p99_ms=spread([r.p99_ms for r in reps]),
        error_share=(total - ok) / total if total else float("nan"),
        statuses=statuses,
        loadgen_cpu_pct=spread([cpu_percent(r.loadgen_cpu_seconds, r.wall_seconds) for r in reps]),
        service_cpu_pct=spread(svc_cpu),
        machine_busy_pct=spread(busy),
    )


def producer_anchor(cfg: BenchConfig, base: dict[str, str], tag: str, log: Log) -> ProducerAnchor:
    """ProducerPerformance on a topic with the events topic's settings (12 partitions,
    replication 1, min.insync.replicas 1), our record size and producer settings."""
    size = record_size()
    topic = f"bench.{tag}.producer-perf"
    admin = KafkaAccess.from_env(base)
    ensure_topics(admin, {topic: EVENTS_PARTITIONS})
    rates, p50, p99, cpu = [], [], [], []
    try:
        for rep in range(cfg.reps):
            run = producer_performance(bench_access(base), topic, cfg.producer_perf_records, size)
            rates.append(run.summary.records_per_s)
            p50.append(run.summary.p50_ms)
            p99.append(run.summary.p99_ms)
            cpu.append(cpu_percent(run.cpu_seconds, run.wall_seconds))
            log(
                f"  ProducerPerformance rep {rep + 1}: {run.summary.records_per_s:.0f} rec/s, "
                f"p99 {run.summary.p99_ms:.0f} ms"
            )
    finally:
        delete_topics(admin, [topic])
    return ProducerAnchor(
        record_size=size,
        records=cfg.producer_perf_records,
        records_per_s=spread(rates),
        p50_ms=spread(p50),
        p99_ms=spread(p99),
        cpu_pct=spread(cpu),
    )


def run_intake(
    cfg: BenchConfig,
    base: dict[str, str],
    log: Log,
    keep: bool = False,
    after_case: Callable[[int, int], None] | None = None,
) -> IntakeResult:
    """`after_case(concurrency, batch)` runs right after each of our cases: the intake peer
    measures the same case then, seconds rather than minutes apart, so the load of other
    processes on a shared machine weighs on both sides of a ratio alike."""
    wrk = ensure_wrk(log)
    with open_namespace(base, "intake", keep=keep) as ns:
        keys = [b.key for b in ns.add_banks(cfg.intake_banks)]
        ingest = ServiceProcess("ingest", ns.env, ns.tag)
        try:
            ingest.wait_healthy()
            # Untimed warm-up: producer connection, metadata, first-request imports.
            run_loadgen(
                {
                    "mode": "closed",
                    "url": ingest.url,
                    "keys": keys,
                    "concurrency": 4,
                    "batch": 10,
                    "duration": 1.0,
                    "warmup": 0.0,
                    "id_prefix": f"w{uuid.uuid4().hex[:8]}",
                },
                timeout=120,
            )
            plan = [(c, 0) for c in cfg.single_concurrency] + [(cfg.batch_concurrency, b) for b in cfg.batch_sizes]
            cases = []
            for concurrency, batch in plan:
                cases.append(measure_case(cfg, ingest, keys, concurrency, batch, wrk, log))
                if after_case is not None:
                    after_case(concurrency, batch)
        finally:
            ingest.stop()
        anchor = producer_anchor(cfg, base, ns.tag, log)
    batched = [c for c in cases if c.batch]
    singles = [c for c in cases if not c.batch]
    best_batched = max(batched, key=lambda c: c.events_per_s.median)
    best_single = max(singles, key=lambda c: c.requests_per_s.median)
    return IntakeResult(
        cases=tuple(cases),
        anchor=anchor,
        best_batched=best_batched.label,
        best_single=best_single.label,
        batched_vs_producer_perf=ratio(best_batched.events_per_s, anchor.records_per_s),
    )
