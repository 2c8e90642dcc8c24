"""Stage 3: aggregator throughput through ledger and Redis over a pre-filled topic, anchored
on Kafka's ConsumerPerformance reading the same topic."""

from __future__ import annotations

import signal
import time
import uuid
from dataclasses import dataclass

import redis
from sqlalchemy import create_engine

from bench.config import BenchConfig, Log
from bench.harness.kafka import EVENTS_PARTITIONS
from bench.harness.ledger import committed_events, ledger_rows
from bench.harness.namespace import open_namespace
from bench.harness.processes import ServiceProcess, machine_busy_percent, machine_mark
from bench.load.prefill import PrefilledTopic
from bench.peers.kafka_tools import consumer_performance
from bench.reporting.results import AggregatorResult, ConsumerAnchor
from bench.reporting.stats import cpu_percent, ratio, spread, steady_rate
from settlement_core.buckets import fence_key


def applied_count(client: redis.Redis, partitions: int = EVENTS_PARTITIONS) -> int:
    """Events whose effects are in Redis: the fences hold the last applied offset of each
    partition and the topic was written from offset 0, so fence + 1 events per partition.
    The fence moves only after the ledger commit, so this counts ledger + Redis."""
    values = client.mget([fence_key(p) for p in range(partitions)])
    return sum(int(v) + 1 for v in values if v is not None)


def consumer_anchor(cfg: BenchConfig, source: PrefilledTopic, log: Log) -> ConsumerAnchor:
    fetch, total, cpu = [], [], []
    for rep in range(cfg.reps):
        run = consumer_performance(source.bench, source.topic, source.events, f"bench.cp.{uuid.uuid4().hex[:8]}")
        fetch.append(run.summary.fetch_records_per_s)
        total.append(run.summary.records_per_s)
        cpu.append(cpu_percent(run.cpu_seconds, run.wall_seconds))
        log(
            f"  ConsumerPerformance rep {rep + 1}: {run.summary.fetch_records_per_s:.0f} rec/s "
            f"(fetch), {run.summary.records_per_s:.0f} rec/s with group join"
        )
    return ConsumerAnchor(
        records=source.events, fetch_records_per_s=spread(fetch), records_per_s=spread(total), cpu_pct=spread(cpu)
    )


@dataclass(frozen=True, slots=True)
class AggregatorRep:
    rate: float
    applied: int
    rows: int
    seconds: float
    capped: bool
    cpu_pct: float
    busy_pct: float


class ProjectionGap:
    """How far the Redis fences trailed the ledger's offsets of record during a repetition.

    A correct apply closes the gap within one batch (the fenced apply follows the ledger
    commit at once) or, after a rebalance or a lost apply, within one fence check; a gap
    that stays open for seconds while the ledger is complete is a projection fault, while
    both counts lagging together is only the pipeline being slow (start-up, rebalance, load).
    """

    __slots__ = ("_open_since", "largest", "longest_s")

    def __init__(self) -> None:
        self.largest = 0  # events
        self.longest_s = 0.0
        self._open_since: float | None = None

    def observe(self, at: float, ledger: int, applied: int) -> None:
        gap = ledger - applied
        self.largest = max(self.largest, gap)
        if gap <= 0:
            self._open_since = None
            return
        if self._open_since is None:
            self._open_since = at
        self.longest_s = max(self.longest_s, at - self._open_since)


def _stop_all(services: list[ServiceProcess]) -> None:
    """SIGTERM every instance first, then wait: stopping them one after the other let the
    last one take over the group and go on consuming after the measurement ended."""
    for service in services:
        if service.proc.poll() is None:
            service.proc.send_signal(signal.SIGTERM)
    for service in services:
        service.stop()


def _one_rep(
    cfg: BenchConfig, base: dict[str, str], source: PrefilledTopic, rep: int, log: Log, keep: bool, instances: int = 1
) -> AggregatorRep:
    with open_namespace(base, "agg", keep=keep) as ns:
        env = source.environment(ns)
        client = ns.redis()
        engine = create_engine(ns.database_url)
        mark0 = machine_mark()
        spawned = time.monotonic()
        # Several instances share the consumer group (and so the partitions), as in a
        # scaled-out deployment; each has its own metrics port.
        services = [ServiceProcess("aggregate", env, f"{ns.tag}-{i}") for i in range(instances)]
        samples: list[tuple[float, float]] = []
        gap = ProjectionGap()
        capped = False
        rows = 0
        try:
            for service in services:
                service.wait_healthy()
            # The cap bounds the aggregation, not the start-up: on the loaded 2-core machine
            # two processes importing at once took a large part of the 30 s quick cap.
            started = time.monotonic()
            with engine.connect() as conn:
                while True:
                    now = time.monotonic()
                    # Ledger first, Redis second: a fence never passes the ledger, so a
                    # positive gap here is real, never an artefact of the sampling order.
                    ledger = committed_events(conn)
                    conn.commit()  # a fresh snapshot for the next sample
                    count = applied_count(client)
                    samples.append((now, float(count)))
                    gap.observe(now, ledger, count)
                    if count >= source.events:
                        break
                    if now - started > cfg.aggregator_time_cap:
                        capped = True
                        break
                    for service in services:
                        if service.proc.poll() is not None:
                            raise RuntimeError(f"aggregate exited early (log {service.log_path})")
                    time.sleep(0.25)
                # Counted while the services still run, at the same moment as the fences:
                # counting after the stop compared the ledger of a later moment with them.
                rows = ledger_rows(conn)
            cpu = sum(service.cpu_seconds() for service in services)
        finally:
            _stop_all(services)
            engine.dispose()
        mark1 = machine_mark()
        elapsed = time.monotonic() - spawned  # with start-up, as CPU % has always been
        applied = int(samples[-1][1])
        # When capped, the rate is measured up to the cap over what was applied by then.
        total = source.events if not capped else max(applied, 1)
        value = steady_rate(samples, total, end_fraction=0.99 if not capped else 1.0)
        log(
            f"  aggregator x{instances} rep {rep + 1}: {value:.0f} ev/s steady, {applied:,} applied in "
            f"{elapsed:.1f} s{' (time cap)' if capped else ''}, ledger rows {rows:,} at that moment; "
            f"start-up {started - spawned:.1f} s; Redis behind the ledger by at most {gap.largest:,} events, "
            f"for at most {gap.longest_s:.1f} s at a time"
        )
        return AggregatorRep(
            value, applied, rows, elapsed, capped, cpu_percent(cpu, elapsed), machine_busy_percent(mark0, mark1)
        )


def run_aggregator(
    cfg: BenchConfig, base: dict[str, str], source: PrefilledTopic, log: Log, keep: bool = False
) -> tuple[AggregatorResult, AggregatorResult | None]:
    """One instance, then (if configured) the scaled-out group, both against one anchor."""
    single = [_one_rep(cfg, base, source, rep, log, keep) for rep in range(cfg.reps)]
    scaled = (
        [_one_rep(cfg, base, source, rep, log, keep, cfg.aggregator_scale_out) for rep in range(cfg.reps)]
        if cfg.aggregator_scale_out > 1
        else []
    )
    anchor = consumer_anchor(cfg, source, log)
    return (
        _result(source, single, anchor, 1),
        _result(source, scaled, anchor, cfg.aggregator_scale_out) if scaled else None,
    )


def _result(
    source: PrefilledTopic, reps: list[AggregatorRep], anchor: ConsumerAnchor, instances: int
) -> AggregatorResult:
    rates = spread([r.rate for r in reps])
    return AggregatorResult(
        events_prefilled=source.events,
        prefill_seconds=source.seconds,
        events_per_s=rates,
        events_applied=tuple(r.applied for r in reps),
        ledger_rows=tuple(r.rows for r in reps),
        seconds=tuple(r.seconds for r in reps),
        capped=any(r.capped for r in reps),
        service_cpu_pct=spread([r.cpu_pct for r in reps]),
        machine_busy_pct=spread([r.busy_pct for r in reps]),
        anchor=anchor,
        vs_consumer_perf=ratio(rates, anchor.fetch_records_per_s),
        instances=instances,
    )
