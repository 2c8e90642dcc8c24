"""Business gauges read from Redis at scrape time.

Every scrape reads the buckets afresh (`BusinessReader.snapshot`) and hands the result to a
`BusinessCollector` registered in a per-scrape registry. Nothing is kept in process-local
counters, so any number of API replicas export the same values.

Two audiences (docs/security/api.md, docs/architecture.md):
- `PUBLIC` (GET /metrics, no key): market-wide series only, never a `bank` label; a
  target's (or the distinct volume's) gauges are left out while fewer than MIN_CONTRIBUTORS
  banks contributed to its window (kit/disclosure.py), and settlement_disclosure_suppressed
  says which.
- `RESTRICTED` (GET /metrics/banks, scrape token): settlement_bank_settled_cny{bank,target},
  settlement_bank_silent{bank}, and the market gauges that /metrics leaves out, so that
  every series comes from exactly one of the two endpoints and Prometheus has them all.

Label cardinality is bounded: `target` (6), `period` (the latest target period only: the
gauges describe what is tracked now), `currency` (accepted currencies), `window` (3), and
`bank` (restricted only), capped at TOP_BANKS per target (default 20).
settlement_distinct_volume_cny counts every event once across all targets; the per-target
gauges overlap (one payment may count toward several) and must never be summed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from settlement_api.kit.bucket_store import BucketStore, Seen
from settlement_api.kit.disclosure import ContributorReader, Disclosure, Extent
from settlement_api.kit.fx_cache import FxCache
from settlement_api.kit.months import Month
from settlement_api.kit.readmodel import Stream, evaluate, plan_reads
from settlement_api.ledger.operator import completeness
from settlement_api.progress.service import ReportFigures, read_report
from settlement_api.quality.reads import Scoring, league
from settlement_api.settings import ApiSettings
from settlement_core.buckets import DISTINCT, hour_field
from settlement_core.business_days import today as business_today
from settlement_core.catalogue import Catalogue, Target
from settlement_core.fx import BASE, FxTable, convert_minor
from settlement_core.pace import effective_as_of, progress

ROLLING_WINDOWS: dict[str, int] = {"24h": 24, "7d": 24 * 7, "30d": 24 * 30}  # in hours


@dataclass(frozen=True, slots=True)
class TargetGauges:
    target: str
    period: str
    currency: str
    target_amount: float
    settled: float
    expected_ratio: float
    events_counted: int
    unconverted: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class RollingGauge:
    target: str
    currency: str
    window: str
    amount: float


@dataclass(frozen=True, slots=True)
class BankGauge:
    bank: str
    target: str
    settled_cny: float


@dataclass(frozen=True, slots=True)
class DistinctGauge:
    period: str
    amount_cny: float
    events_counted: int


@dataclass(frozen=True, slots=True)
class QualityGauges:
    """The data-quality scores of the last ended month (settlement_api.quality)."""

    period: str
    alert_below: int
    scores: tuple[tuple[str, float], ...]  # (bank, score), lowest first, at most TOP_BANKS
    below: int  # active banks scoring below alert_below (all of them, not only the listed)


@dataclass(frozen=True, slots=True)
class ReportingGauges:
    """Reporting completeness (ledger/operator.py): silent banks and high DLQ rates; and the
    data-quality scores when the API has its weights and deadlines."""

    silent: tuple[str, ...]
    dlq_rate_high: tuple[str, ...]
    quality: QualityGauges | None = None


@dataclass(frozen=True, slots=True)
class BusinessSnapshot:
    targets: tuple[TargetGauges, ...]
    rolling: tuple[RollingGauge, ...]
    banks: tuple[BankGauge, ...]
    distinct: DistinctGauge
    reporting: ReportingGauges | None = None
    # Targets (and DISTINCT for the distinct volume) with fewer than MIN_CONTRIBUTORS
    # contributing banks: their gauges are restricted, not public.
    thin: frozenset[str] = frozenset()


PUBLIC = "public"
RESTRICTED = "restricted"


@dataclass(frozen=True, slots=True)
class BuildInfo:
    version: str
    commit: str


class BusinessCollector(Collector):
    """Turns one snapshot into metric families (pure: no I/O in collect())."""

    def __init__(self, snapshot: BusinessSnapshot | None, build: BuildInfo, audience: str = PUBLIC) -> None:
        self._snapshot = snapshot
        self._build = build
        self._audience = audience

    def collect(self) -> Iterable[Metric]:
        if self._audience == RESTRICTED:
            if self._snapshot is not None:
                yield from _families(self._snapshot, RESTRICTED)
            return
        info = InfoMetricFamily("settlement_build", "Build of the settlement API.", labels=["version", "commit"])
        info.add_metric([self._build.version, self._build.commit], {})
        yield info
        up = GaugeMetricFamily(
            "settlement_business_metrics_up", "1 if the business gauges were read from Redis on this scrape."
        )
        up.add_metric([], 1.0 if self._snapshot else 0.0)
        yield up
        if self._snapshot is not None:
            yield from _families(self._snapshot, PUBLIC)


def _families(snap: BusinessSnapshot, audience: str) -> Iterator[Metric]:
    def shown(code: str) -> bool:
        return (code in snap.thin) == (audience == RESTRICTED)

    settled = {
        cur: GaugeMetricFamily(
            f"settlement_settled_{cur.lower()}",
            f"Settled in the target window up to today (capped at the window end), in {cur}.",
            labels=["target", "period"],
        )
        for cur in ("CNY", "USD")
    }
    targets = {
        cur: GaugeMetricFamily(
            f"settlement_target_{cur.lower()}", f"Target amount in {cur}.", labels=["target", "period"]
        )
        for cur in ("CNY", "USD")
    }
    expected = GaugeMetricFamily(
        "settlement_expected_ratio", "Elapsed fraction of the target window (0..1).", labels=["target", "period"]
    )
    events = GaugeMetricFamily(
        "settlement_events_counted",
        "Counted events in the target window (reversals subtract).",
        labels=["target", "period"],
    )
    unconverted = GaugeMetricFamily(
        "settlement_unconverted_amount",
        "Amounts without an FX rate, in their own currency (not in settled).",
        labels=["target", "period", "currency"],
    )
    for t in snap.targets:
        if not shown(t.target):
            continue
        if t.currency in settled:
            settled[t.currency].add_metric([t.target, t.period], t.settled)
            targets[t.currency].add_metric([t.target, t.period], t.target_amount)
        expected.add_metric([t.target, t.period], t.expected_ratio)
        events.add_metric([t.target, t.period], float(t.events_counted))
        for currency, amount in t.unconverted:
            unconverted.add_metric([t.target, t.period, currency], amount)
    distinct = GaugeMetricFamily(
        "settlement_distinct_volume_cny",
        "Every event once across all targets in the period's window up to today, in CNY (never a sum of targets).",
        labels=["period"],
    )
    if shown(DISTINCT):
        distinct.add_metric([snap.distinct.period], snap.distinct.amount_cny)
    distinct_events = GaugeMetricFamily(
        "settlement_distinct_events_counted",
        "Events counted once across all targets in the period's window (reversals subtract).",
        labels=["period"],
    )
    if shown(DISTINCT):
        distinct_events.add_metric([snap.distinct.period], float(snap.distinct.events_counted))
    rolling = {
        cur: GaugeMetricFamily(
            f"settlement_rolling_settled_{cur.lower()}",
            f"Settled by processing time over the trailing window, in {cur}.",
            labels=["target", "window"],
        )
        for cur in ("CNY", "USD")
    }
    for r in snap.rolling:
        # No per-bank processing-hour buckets exist: the window's contributors decide.
        if r.currency in rolling and shown(r.target):
            rolling[r.currency].add_metric([r.target, r.window], r.amount)
    yield from (
        *settled.values(),
        *targets.values(),
        expected,
        events,
        unconverted,
        distinct,
        distinct_events,
        *rolling.values(),
    )
    if audience == PUBLIC:
        suppressed = GaugeMetricFamily(
            "settlement_disclosure_suppressed",
            "1 when a target's market gauges are withheld from /metrics: fewer than MIN_CONTRIBUTORS banks "
            '(target="*": the distinct volume). They are on /metrics/banks.',
            labels=["target", "period"],
        )
        for t in snap.targets:
            suppressed.add_metric([t.target, t.period], 1.0 if t.target in snap.thin else 0.0)
        suppressed.add_metric([DISTINCT, snap.distinct.period], 1.0 if DISTINCT in snap.thin else 0.0)
        yield suppressed
    else:
        banks = GaugeMetricFamily(
            "settlement_bank_settled_cny",
            "Settled per bank in the target window, in CNY (top N banks per target, N = TOP_BANKS).",
            labels=["bank", "target"],
        )
        for b in snap.banks:
            banks.add_metric([b.bank, b.target], b.settled_cny)
        yield banks
    if snap.reporting is not None:
        yield from _reporting_families(snap.reporting, audience)


def _reporting_families(reporting: ReportingGauges, audience: str) -> Iterator[Metric]:
    if audience == RESTRICTED:
        # One series per silent bank only (capped at TOP_BANKS by the reader): the alert names them.
        flagged = GaugeMetricFamily(
            "settlement_bank_silent", "1 for each silent bank (at most TOP_BANKS).", labels=["bank"]
        )
        for bank in reporting.silent:
            flagged.add_metric([bank], 1.0)
        yield flagged
        if reporting.quality is not None:
            scores = GaugeMetricFamily(
                "settlement_bank_quality_score",
                "Data-quality score 0-100 of the last ended month (lowest TOP_BANKS banks).",
                labels=["bank", "period"],
            )
            for bank, value in reporting.quality.scores:
                scores.add_metric([bank, reporting.quality.period], value)
            yield scores
        return
    silent = GaugeMetricFamily(
        "settlement_silent_banks", "Active banks that sent nothing on the last SILENT_BUSINESS_DAYS business days."
    )
    silent.add_metric([], float(len(reporting.silent)))
    dlq = GaugeMetricFamily(
        "settlement_dlq_rate_high_banks", "Active banks whose DLQ rate is above DLQ_RATE_THRESHOLD."
    )
    dlq.add_metric([], float(len(reporting.dlq_rate_high)))
    yield from (silent, dlq)
    if reporting.quality is not None:
        threshold = GaugeMetricFamily(
            "settlement_quality_alert_below",
            "A bank's data-quality score below this raises an alert (seeds/quality.yaml).",
        )
        threshold.add_metric([], float(reporting.quality.alert_below))
        low = GaugeMetricFamily(
            "settlement_quality_low_banks",
            "Active banks whose data-quality score of the last ended month is below settlement_quality_alert_below.",
            labels=["period"],
        )
        low.add_metric([reporting.quality.period], float(reporting.quality.below))
        yield from (threshold, low)


def rolling_fields(
    seen: Seen, categories: Iterable[str], now: datetime, hours: int
) -> dict[tuple[str, str], list[str]]:
    """Hour-bucket fields of the trailing `hours` (the current hour included) per stream."""
    stamps = [now - timedelta(hours=h) for h in range(hours)]
    return {
        (cat, cur): [hour_field(cat, cur, at) for at in stamps] for cat in categories for cur in seen.currencies(cat)
    }


def target_gauges(figures: ReportFigures, on_track_pace: Decimal) -> tuple[TargetGauges, ...]:
    """Pure: the per-target gauges from the report's figures (the operator's view: every
    figure present; disclosure decides per audience in `_families`)."""
    gauges: list[TargetGauges] = []
    for target in figures.targets:
        settled = figures.settled[target.code]
        amount = settled.amounts.converted
        unconverted = settled.amounts.unconverted()
        gauges.append(
            TargetGauges(
                target=target.code,
                period=target.period,
                currency=target.currency,
                target_amount=float(Decimal(target.amount)),
                settled=float(amount),
                expected_ratio=float(progress(target, amount, figures.as_of, on_track_pace).expected_ratio),
                events_counted=settled.events_counted,
                unconverted=tuple(
                    (cur, float(unconverted.get(cur, Decimal(0))))
                    for cur in sorted(settled.amounts.native_minor)
                    if cur != target.currency
                ),
            )
        )
    return tuple(gauges)


def distinct_gauge(figures: ReportFigures) -> DistinctGauge:
    settled = figures.settled[DISTINCT]
    return DistinctGauge(figures.period, float(settled.amounts.converted), settled.events_counted)


class BusinessReader:
    """Reads the snapshot at scrape time; keeps closed processing hours between scrapes."""

    def __init__(
        self,
        store: BucketStore,
        fx: FxCache,
        contributors: ContributorReader,
        sessions: sessionmaker[Session],
        catalogue: Catalogue,
        targets: tuple[Target, ...],
        settings: ApiSettings,
        scoring: Scoring | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._fx = fx
        self._contributors = contributors
        self._sessions = sessions
        self._catalogue = catalogue
        self._targets = targets
        self._settings = settings
        self._scoring = scoring
        self._clock = clock
        self._hours: dict[str, int] = {}
        self._hours_loaded_at: float | None = None
        self._reporting_cache: ReportingGauges | None = None
        self._reporting_at = 0.0

    def _today(self) -> date:
        return business_today(self._settings.business_timezone)

    async def snapshot(self, with_banks: bool = False) -> BusinessSnapshot:
        """The gauges of one scrape; the per-bank ones (costly: one plan per bank and
        target) only when `with_banks`, for /metrics/banks."""
        fx = await self._fx.table()
        figures = await read_report(self._store, fx, self._catalogue, self._today())
        seen = figures.seen
        extents = {code: Extent(q.category, q.start, q.end) for code, q in figures.queries.items() if ":" not in code}
        contributors = await self._contributors.read(seen, extents)
        rule = Disclosure(self._settings.min_contributors, applies=True)
        thin = frozenset(code for code, found in contributors.items() if rule.hides(found.count))
        return BusinessSnapshot(
            target_gauges(figures, self._settings.on_track_pace),
            await self._rolling_gauges(seen, fx),
            await self._bank_gauges(seen, fx) if with_banks else (),
            distinct_gauge(figures),
            await self._reporting(),
            thin,
        )

    async def _reporting(self) -> ReportingGauges:
        """Completeness costs aggregate queries of PostgreSQL: reuse it for a while."""
        now = self._clock()
        ttl = self._settings.completeness_cache_seconds
        if self._reporting_cache is None or now - self._reporting_at >= ttl:
            at = datetime.now(UTC)
            report = await completeness(self._sessions, self._settings, at)
            cap = self._settings.top_banks
            self._reporting_cache = ReportingGauges(
                tuple(report.silent[:cap]), tuple(report.dlq_rate_high), await self._quality(at)
            )
            self._reporting_at = now
        return self._reporting_cache

    async def _quality(self, now: datetime) -> QualityGauges | None:
        """Every active bank's score of the last ended month: a few grouped queries per bank,
        refreshed with completeness (COMPLETENESS_CACHE_SECONDS)."""
        if self._scoring is None:
            return None
        month = Month.of(business_today(self._settings.business_timezone).replace(day=1) - timedelta(days=1))
        rows = await league(self._scoring, month, now)
        below = self._scoring.weights.alert_below
        return QualityGauges(
            month.label,
            below,
            tuple((bank, float(score.score)) for bank, _, score in rows[: self._settings.top_banks]),
            sum(score.score < below for _, _, score in rows),
        )

    async def _hour_values(self, fields: dict[tuple[str, str], list[str]]) -> dict[str, int]:
        wanted = list(dict.fromkeys(f for names in fields.values() for f in names))
        # names[0] / names[1]: the current and the previous hour, still receiving effects.
        live = {f for names in fields.values() for f in names[:2]}
        now = self._clock()
        full = (
            self._hours_loaded_at is None or now - self._hours_loaded_at >= self._settings.rolling_full_refresh_seconds
        )
        fetch = wanted if full else [f for f in wanted if f in live or f not in self._hours]
        values = await self._store.sum_fields(fetch)
        known = {} if full else self._hours
        known.update({f: values.get(f, 0) for f in fetch})
        self._hours = {f: known[f] for f in wanted}  # drop hours that left the 30-day window
        if full:
            self._hours_loaded_at = now
        return self._hours

    async def _rolling_gauges(self, seen: Seen, fx: FxTable) -> tuple[RollingGauge, ...]:
        today = self._today()
        longest = max(ROLLING_WINDOWS.values())
        fields = rolling_fields(seen, (t.code for t in self._targets), datetime.now(UTC), longest)
        values = await self._hour_values(fields)
        gauges: list[RollingGauge] = []
        for target in self._targets:
            code = target.code
            for window, hours in ROLLING_WINDOWS.items():
                total = Decimal(0)
                for (cat, cur), names in fields.items():
                    if cat != code:
                        continue
                    factor = fx.factor(cur, target.currency, today)
                    units = sum(values.get(n, 0) for n in names[:hours])
                    # Processing-time buckets carry no value date: convert at today's rate;
                    # amounts without a rate are visible in settlement_unconverted_amount.
                    if factor is not None and units:
                        total += convert_minor(units, cur, factor)
                gauges.append(RollingGauge(code, target.currency, window, float(total)))
        return tuple(gauges)

    async def _bank_gauges(self, seen: Seen, fx: FxTable) -> tuple[BankGauge, ...]:
        today = self._today()
        plans = {}
        for target in self._targets:
            code = target.code
            end = effective_as_of(target, today)
            for bank in seen.banks:
                streams = [Stream(code, cur, bank) for cur in seen.currencies(code)]
                plans[(bank, code)] = plan_reads(streams, target.window_start, end, BASE, fx)
        values = await self._store.sum_fields(list(dict.fromkeys(f for p in plans.values() for f in p.fields)))
        top = self._settings.top_banks
        gauges: list[BankGauge] = []
        for target in self._targets:
            code = target.code
            ranked = sorted(
                ((evaluate(plans[(bank, code)], values, BASE).converted, bank) for bank in seen.banks),
                key=lambda pair: (-pair[0], pair[1]),
            )
            gauges += [BankGauge(bank, code, float(amount)) for amount, bank in ranked[:top] if amount > 0]
        return tuple(gauges)
