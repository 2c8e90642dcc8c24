"""The aggregator loop: poll -> decode -> ledger transaction (+ DLQ) -> fenced Redis apply.

Single-threaded on purpose (the Kafka consumer is not thread-safe, and one batch at a
time keeps the crash analysis simple); only the HTTP endpoints run on a side thread.
Retryable outages (PostgreSQL, Redis, the DLQ broker) pause the loop with exponential
backoff and make /readyz fail; nothing is acknowledged anywhere until the ledger commit.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from types import FrameType
from typing import TypeVar

import redis
from kafka import KafkaConsumer
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition
from sqlalchemy import create_engine
from sqlalchemy.exc import InterfaceError, OperationalError

from settlement_aggregate import metrics
from settlement_aggregate.consumer import AssignmentTracker, build_consumer
from settlement_aggregate.decode import Record, split
from settlement_aggregate.dlq import DlqProducer
from settlement_aggregate.faults import FaultHook
from settlement_aggregate.health import Readiness, serve
from settlement_aggregate.ledger import CommitResult, ConcurrentLedgerWrite, LedgerRepository
from settlement_aggregate.projection import Projection
from settlement_aggregate.settings import AggregateSettings
from settlement_core.buckets import Effect
from settlement_core.kafka_io import KafkaUnavailable
from settlement_core.logs import configure_logging
from settlement_core.redis_io import RedisUnavailable, sync_client
from settlement_core.targets import load_catalogue

logger = logging.getLogger(__name__)

T = TypeVar("T")

IDLE_CHECK_S = 2.0

# Outages worth waiting out. Anything else is a bug or a broken contract: crash loudly and
# let the supervisor restart us (the ledger makes restarts safe).
RETRYABLE: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    RedisUnavailable,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    KafkaUnavailable,
    KafkaError,
    ConcurrentLedgerWrite,
)


class Stopping(Exception):
    """SIGTERM arrived while waiting out an outage: leave without committing."""


class Aggregator:
    def __init__(
        self,
        settings: AggregateSettings,
        consumer: KafkaConsumer,
        tracker: AssignmentTracker,
        ledger: LedgerRepository,
        projection: Projection,
        dlq: DlqProducer,
        readiness: Readiness,
        fault: FaultHook,
        codes: frozenset[str],
    ) -> None:
        self._settings = settings
        self._codes = codes  # the catalogue's category codes (others are invalid events)
        self._consumer = consumer
        self._tracker = tracker
        self._ledger = ledger
        self._projection = projection
        self._dlq = dlq
        self._readiness = readiness
        self._fault = fault
        self._topic = settings.events_topic
        # partition -> next_offset this instance believes is recorded in PostgreSQL. Only
        # partitions in here are consumed; the ledger transaction checks the belief.
        self._beliefs: dict[int, int] = {}
        self.stopping = False
        self._last_idle_check = 0.0

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        del frame
        logger.info("stop requested; finishing the current batch", extra={"signal": signum})
        self.stopping = True

    # -- retry ---------------------------------------------------------------------------
    def _retry(self, what: str, action: Callable[[], T]) -> T:
        delay = self._settings.aggregate_backoff_initial_s
        while True:
            try:
                result = action()
            except RETRYABLE as exc:
                self._readiness.set(False, f"{what}: {type(exc).__name__}")
                logger.warning(
                    "retryable failure, backing off", extra={"step": what, "error": str(exc)[:300], "delay_s": delay}
                )
                deadline = time.monotonic() + delay
                while time.monotonic() < deadline:
                    if self.stopping:
                        raise Stopping from exc
                    time.sleep(min(0.1, delay))
                delay = min(delay * 2, self._settings.aggregate_backoff_max_s)
                continue
            return result

    # -- assignment ----------------------------------------------------------------------
    def _sync(self) -> None:
        pending, revoked = self._tracker.drain()
        for p in revoked:
            self._beliefs.pop(p, None)
            with contextlib.suppress(KeyError):
                metrics.CONSUMER_LAG.remove(str(p))
        assigned = {tp.partition for tp in self._consumer.assignment()}
        pending &= assigned
        if not pending:
            return
        tps = [TopicPartition(self._topic, p) for p in sorted(pending)]
        try:
            starts = self._retry(
                "kafka log start",
                lambda: {tp.partition: int(o) for tp, o in self._consumer.beginning_offsets(tps).items()},
            )
            positions = self._retry("ledger positions", lambda: self._ledger.claim_positions(starts))
            for tp in tps:
                self._retry(
                    "redis catch-up", partial(self._projection.catch_up, tp.partition, positions[tp.partition] - 1)
                )
        except Stopping:
            self._tracker.defer(pending)
            raise
        for tp in tps:
            self._consumer.seek(tp, positions[tp.partition])
            self._beliefs[tp.partition] = positions[tp.partition]
        self._consumer.resume(*tps)
        logger.info("partitions synced from the ledger", extra={"positions": positions})

    # -- one batch -----------------------------------------------------------------------
    def _process(self, records: list[Record]) -> None:
        started = time.perf_counter()
        valid, invalid = split(records, self._codes)
        decoded = time.perf_counter()
        last_offsets: dict[int, int] = {}
        for r in records:
            last_offsets[r.partition] = max(r.offset, last_offsets.get(r.partition, -1))
        beliefs = {p: self._beliefs[p] for p in last_offsets}
        result: CommitResult = self._retry(
            "ledger commit",
            lambda: self._ledger.commit_batch(
                valid,
                invalid,
                beliefs,
                last_offsets,
                datetime.now(UTC),
                before_commit=lambda plan: self._dlq.publish(plan.dlq),
            ),
        )
        self._fault.after_ledger_commit()
        committed = time.perf_counter()
        self._record_metrics(result, valid_received=[v.envelope.received_at for v in valid])
        for c in result.committed:
            self._beliefs[c.partition] = c.new_next
        self._handle_fenced(result.fenced)
        by_partition: dict[int, list[Effect]] = defaultdict(list)
        for effect in result.plan.effects:
            by_partition[effect.partition].append(effect)
        for c in result.committed:
            effects = by_partition.get(c.partition, [])
            self._retry("redis apply", partial(self._projection.apply, c.partition, c.prev_fence, c.new_fence, effects))
        metrics.LAST_APPLIED.set(time.time())
        finished = time.perf_counter()
        metrics.BATCH_APPLY_SECONDS.observe(finished - started)
        logger.debug(
            "batch applied",
            extra={
                "records": len(records),
                "effects": len(result.plan.effects),
                "decode_s": round(decoded - started, 4),
                "ledger_s": round(committed - decoded, 4),
                "redis_s": round(finished - committed, 4),
            },
        )
        self._readiness.set(True)
        self._commit_to_kafka(result)

    def _handle_fenced(self, fenced: Mapping[int, int | None]) -> None:
        assigned = {tp.partition for tp in self._consumer.assignment()}
        for p, found in fenced.items():
            self._beliefs.pop(p, None)
            if p not in assigned:
                continue
            tp = TopicPartition(self._topic, p)
            self._consumer.pause(tp)
            self._tracker.defer([p])  # re-read the position, catch Redis up, seek, resume
            logger.warning("fenced: re-syncing partition from the ledger", extra={"partition": p, "found": found})

    def _record_metrics(self, result: CommitResult, valid_received: list[datetime]) -> None:
        plan = result.plan
        for category, n in plan.counted.items():
            metrics.EVENTS_APPLIED.labels(category=category).inc(n)
        if plan.duplicates:
            metrics.DUPLICATES.inc(plan.duplicates)
        if plan.reversals_applied:
            metrics.REVERSALS.labels(outcome="applied").inc(plan.reversals_applied)
        if plan.reversals_pending:
            metrics.REVERSALS.labels(outcome="pending").inc(plan.reversals_pending)
        for entry in plan.dlq:
            metrics.DLQ.labels(reason=entry.reason).inc()
        if valid_received:
            metrics.LAST_RECEIVED.set(max(valid_received).timestamp())

    def _commit_to_kafka(self, result: CommitResult) -> None:
        """Lag visibility only (kafka-consumer-groups.sh); PostgreSQL stays the record."""
        offsets = {
            TopicPartition(self._topic, c.partition): OffsetAndMetadata(c.new_next, "", -1) for c in result.committed
        }
        if not offsets:
            return
        try:
            self._consumer.commit_async(offsets)
        except KafkaError as exc:
            logger.debug("kafka offset commit skipped", extra={"error": str(exc)})

    def _update_lag(self) -> None:
        for p, position in self._beliefs.items():
            try:
                high = self._consumer.highwater(TopicPartition(self._topic, p))
            except KafkaError:
                continue
            if high is not None:
                metrics.CONSUMER_LAG.labels(partition=str(p)).set(max(0, high - position))

    def _idle_catch_up(self) -> None:
        """While idle, re-check the fences now and then: a flushed Redis or a rebuild that
        regressed a fence heals without waiting for the partition's next event."""
        now = time.monotonic()
        if now - self._last_idle_check < IDLE_CHECK_S:
            return
        self._last_idle_check = now
        if not self._beliefs:
            return
        # An operator's `settlementctl replay` (or another instance) may have moved a
        # position while no records arrived to trip the fence in the ledger transaction.
        stored = self._retry("ledger positions", partial(self._ledger.positions, sorted(self._beliefs)))
        moved = {p: stored.get(p) for p, belief in self._beliefs.items() if stored.get(p) != belief}
        if moved:
            self._handle_fenced(moved)
        for p, position in list(self._beliefs.items()):
            self._retry("redis catch-up", partial(self._projection.catch_up, p, position - 1))

    # -- loop ----------------------------------------------------------------------------
    def run(self) -> None:
        try:
            while not self.stopping:
                self._sync()
                self._readiness.set(True)
                polled = self._consumer.poll(
                    timeout_ms=self._settings.aggregate_poll_timeout_ms, max_records=self._settings.aggregate_batch_size
                )
                # kafka-python's ConsumerRecords are immutable namedtuples with the fields
                # decode.Record reads; no per-record copy.
                records: list[Record] = [
                    r for tp, batch in polled.items() if tp.partition in self._beliefs for r in batch
                ]
                if records:
                    self._process(records)
                else:
                    self._idle_catch_up()
                self._update_lag()
        except Stopping:
            logger.info("stopped while waiting for a dependency; nothing was committed")
        logger.info("aggregator stopping")


def _connect(settings: AggregateSettings, readiness: Readiness) -> tuple[KafkaConsumer, AssignmentTracker]:
    """Build the consumer, waiting out a broker that is not there yet (kafka-python's
    constructor bootstraps synchronously and raises if it cannot)."""
    delay = settings.aggregate_backoff_initial_s
    while True:
        try:
            return build_consumer(settings)
        except KafkaError as exc:
            readiness.set(False, f"kafka: {type(exc).__name__}")
            logger.warning(
                "kafka unreachable at start-up, backing off", extra={"error": str(exc)[:300], "delay_s": delay}
            )
            time.sleep(delay)
            delay = min(delay * 2, settings.aggregate_backoff_max_s)


def _tune_gc() -> None:
    """Keep the cyclic garbage collector off the per-event path.

    A batch allocates tens of thousands of container objects (decoded events, rows,
    effects) that all live until the batch ends, so with the default thresholds the
    collector runs hundreds of times per batch and each run re-scans the survivors
    (measured: 5-10 of ~40 us per event in the pure decode/plan/increments steps). Freezing what start-up built
    (modules, SQLAlchemy/kafka-python state) takes it out of every later full collection;
    a larger first threshold makes young collections rare. Only cyclic garbage waits
    longer; reference counting still frees everything else at once.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def main() -> None:
    settings = AggregateSettings()
    configure_logging(settings.log_level)
    fault = FaultHook.parse(settings.aggregate_fault)
    catalogue = load_catalogue(settings.targets_file)  # a bad catalogue stops start-up here
    readiness = Readiness()
    metrics.READY.set(0)
    server = serve(settings.aggregate_host, settings.aggregate_port, readiness)
    # Not settlement_core.db.engine.make_engine: importing it pulls in Alembic, which only
    # slows every restart down. Same pool options.
    engine = create_engine(settings.database_url, pool_size=2, max_overflow=2, pool_pre_ping=True, pool_recycle=1800)
    client = sync_client(settings.redis_url, timeout_s=30.0)
    ledger = LedgerRepository(engine, settings.consumer_group, settings.events_topic)
    projection = Projection(client, ledger, settings.aggregate_replay_chunk, catalogue.rules)
    dlq = DlqProducer(settings.kafka_bootstrap, settings.dlq_topic, settings.events_topic)
    consumer, tracker = _connect(settings, readiness)
    aggregator = Aggregator(settings, consumer, tracker, ledger, projection, dlq, readiness, fault, catalogue.codes)
    signal.signal(signal.SIGTERM, aggregator.request_stop)
    signal.signal(signal.SIGINT, aggregator.request_stop)
    _tune_gc()
    logger.info(
        "aggregator started",
        extra={
            "group": settings.consumer_group,
            "topic": settings.events_topic,
            "port": settings.aggregate_port,
            "fault": settings.aggregate_fault,
        },
    )
    try:
        aggregator.run()
    finally:
        readiness.set(False, "stopping")
        consumer.close(autocommit=False)
        dlq.close()
        engine.dispose()
        server.shutdown()
        logger.info("aggregator stopped")
