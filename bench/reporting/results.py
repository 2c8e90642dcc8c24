"""Result records of every benchmark stage: frozen, typed, and serialised to the JSON in
bench/results/ as they are (dataclasses.asdict), so the JSON and the summary cannot drift.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.reporting.stats import Spread, Verdict

# The reads stage's knowledge-time read (issue 24): computed from the ledger, so its goal is
# an absolute p50 at the largest history (under 1 s at 10^7 events), not a growth ratio.
KNOWN_AT_CASE = "GET /v1/progress?known_at (ledger)"
KNOWN_AT_GOAL_MS = 1000.0


@dataclass(frozen=True, slots=True)
class IntakeCase:
    label: str
    concurrency: int
    batch: int  # 0 = one event per POST
    loadgen: str  # "wrk" (preferred) or "python" (bench.load.generator)
    events_per_s: Spread  # acknowledged (202 / per-item "accepted") events per second
    requests_per_s: Spread
    p50_ms: Spread  # per request (a batch request counts once)
    p99_ms: Spread
    error_share: float  # non-2xx answers / requests, over all repetitions
    statuses: dict[str, int]
    loadgen_cpu_pct: Spread  # % of one core used by the load generator process
    service_cpu_pct: Spread  # % of one core used by ingest
    machine_busy_pct: Spread  # whole machine, 100 % = both cores: shows the noise


@dataclass(frozen=True, slots=True)
class ProducerAnchor:
    record_size: int
    records: int
    records_per_s: Spread
    p50_ms: Spread
    p99_ms: Spread
    cpu_pct: Spread


@dataclass(frozen=True, slots=True)
class IntakeResult:
    cases: tuple[IntakeCase, ...]
    anchor: ProducerAnchor | None
    best_batched: str
    best_single: str
    batched_vs_producer_perf: Spread  # best batched events/s ÷ ProducerPerformance records/s


@dataclass(frozen=True, slots=True)
class BridgeResult:
    """The intake peer (bench/peers/camel_bridge) under the intake stage's cases and load."""

    peer: str  # what ran, with its version
    cases: tuple[IntakeCase, ...]  # service_cpu_pct is the bridge JVM's
    best_single: str
    best_batched: str


@dataclass(frozen=True, slots=True)
class ConsumerAnchor:
    records: int
    fetch_records_per_s: Spread  # excludes the group join: comparable to ours
    records_per_s: Spread  # including the join
    cpu_pct: Spread


@dataclass(frozen=True, slots=True)
class AggregatorResult:
    events_prefilled: int
    prefill_seconds: float
    events_per_s: Spread  # steady state, 1 %..99 % of the topic (or time cap)
    events_applied: tuple[int, ...]  # per repetition, from the Redis fences
    ledger_rows: tuple[int, ...]  # per repetition, ledger_events count afterwards
    seconds: tuple[float, ...]
    capped: bool  # a repetition hit the time cap before the end
    service_cpu_pct: Spread
    machine_busy_pct: Spread
    anchor: ConsumerAnchor | None
    vs_consumer_perf: Spread
    instances: int = 1  # aggregator processes in the consumer group


@dataclass(frozen=True, slots=True)
class QuixResult:
    """The aggregation peer (bench/peers/quix) over the aggregator stage's pre-filled topic."""

    peer: str
    events_prefilled: int
    events_per_s: Spread  # steady state from its committed offsets, 1 %..99 % (or time cap)
    events_committed: tuple[int, ...]  # per repetition, at the end
    seconds: tuple[float, ...]
    capped: bool
    commit_interval_s: float  # its checkpoint interval: offsets, state and changelog commit together
    service_cpu_pct: Spread
    machine_busy_pct: Spread


@dataclass(frozen=True, slots=True)
class E2eCase:
    target_rate: float
    achieved_rate: Spread  # acknowledged events/s over the sending window
    p50_ms: Spread  # 202 -> visible in GET /v1/progress (probe events)
    p99_ms: Spread
    max_ms: Spread
    probes_acked: int
    probes_seen: int
    dropped_slots: int  # offered batches skipped because 512 were in flight
    error_share: float
    sustained: bool
    loadgen_cpu_pct: Spread
    service_cpu_pct: dict[str, Spread]
    machine_busy_pct: Spread


@dataclass(frozen=True, slots=True)
class E2eResult:
    cases: tuple[E2eCase, ...]
    highest_sustained_rate: float | None


@dataclass(frozen=True, slots=True)
class ReceiptsRate:
    """One offered rate, measured with the transparency log off and on in alternation."""

    target_rate: float
    order: tuple[str, ...]  # "off"/"on" in the order the repetitions ran
    off: E2eCase
    on: E2eCase  # its service_cpu_pct includes the integrator
    # Events the aggregator counted per second (committed offsets, 1 %..99 % of the events of
    # the repetition): the end-to-end rate, in the order the repetitions ran.
    counted_per_s: tuple[float, ...]
    counted_off: Spread
    counted_on: Spread
    ratio: Spread  # counted_on ÷ counted_off, median ÷ median
    paired: Spread  # each on repetition ÷ the off repetition next to it
    acked_ratio: Spread  # acknowledged events/s, on ÷ off
    # With the log on: ledger rows not yet in the log when the aggregator had counted
    # everything, and the seconds the integrator then took to log them all.
    log_backlog: Spread
    log_catch_up_s: Spread
    # CPU µs per counted event of each service (the integrator's on the on side), from the
    # start of the load until everything was counted (and logged): less at the mercy of the
    # machine's other load than the rates are.
    cpu_us_per_event_off: dict[str, Spread]
    cpu_us_per_event_on: dict[str, Spread]


@dataclass(frozen=True, slots=True)
class ReceiptsResult:
    rates: tuple[ReceiptsRate, ...]
    receipts_checked: bool  # the on side's 202 answers carried a receipt, the off side's none
    log_size: int  # leaves in the on side's log at the end
    ledger_rows_on: int  # its ledger rows: every one must be logged
    log_size_off: int  # the off side's log (0: nothing integrated there)


@dataclass(frozen=True, slots=True)
class ReadCase:
    history_events: int
    endpoint: str
    p50_ms: Spread
    p99_ms: Spread
    loadgen_cpu_pct: Spread


@dataclass(frozen=True, slots=True)
class ReadRatio:
    endpoint: str
    largest: int
    smallest: int
    p50: Spread
    p99: Spread


@dataclass(frozen=True, slots=True)
class ReadsResult:
    cases: tuple[ReadCase, ...]
    ratios: tuple[ReadRatio, ...]


@dataclass(frozen=True, slots=True)
class GrowthPoint:
    history_events: int
    load_seconds: float
    redis_bytes: int
    redis_keys: int
    redis_fields: int
    pg_bytes: int


@dataclass(frozen=True, slots=True)
class RebuildCheck:
    fields_compared: int
    fields_different: int
    fences_equal: bool
    reconcile_exit: int | None


@dataclass(frozen=True, slots=True)
class GrowthResult:
    points: tuple[GrowthPoint, ...]
    redis_bytes_per_million: float
    pg_bytes_per_million: float
    rebuild_events: int
    rebuild_seconds: Spread
    rebuild_check: RebuildCheck | None


@dataclass(frozen=True, slots=True)
class ProfileLine:
    function: str
    self_pct: float
    total_pct: float


@dataclass(frozen=True, slots=True)
class ProfileResult:
    stage: str
    service: str
    tool: str
    seconds: float
    samples: int  # on-CPU samples (100 per second per busy thread)
    idle_samples: int  # threads waiting in epoll/conditions, left out
    by_self: tuple[ProfileLine, ...]
    by_total: tuple[ProfileLine, ...]  # our own code (settlement_*) only


@dataclass(frozen=True, slots=True)
class BenchReport:
    started_at: str
    finished_at: str
    mode: str
    host: dict[str, Any]
    config: dict[str, Any]
    intake: IntakeResult | None = None
    aggregator: AggregatorResult | None = None
    # The same topic through two aggregator processes in one consumer group (scale-out).
    aggregator_scaled: AggregatorResult | None = None
    e2e: E2eResult | None = None
    receipts: ReceiptsResult | None = None  # issue 29: e2e with the transparency log off and on
    bridge: BridgeResult | None = None  # issue 16: the intake peer
    quix: QuixResult | None = None  # issue 16: the aggregation peer
    reads: ReadsResult | None = None
    growth: GrowthResult | None = None
    profile: ProfileResult | None = None
    verdicts: tuple[Verdict, ...] = ()
    # Issue 16's two-sided ratios with their spreads (ours ÷ a peer, 2 processes ÷ 1).
    peer_ratios: dict[str, Spread] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def json_safe(value: Any) -> Any:
    # Strict JSON has no NaN: a figure that could not be measured is null.
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def to_json(report: BenchReport) -> dict[str, Any]:
    data = asdict(report)
    data["verdicts"] = [{**asdict(v), "met": v.met, "attainment": v.attainment} for v in report.verdicts]
    return json_safe(data)  # type: ignore[no-any-return]
