"""The aggregator loop: poll -> decode -> ledger transaction (+ DLQ) -> fenced Redis apply.

Single-threaded on purpose (the Kafka consumer is not thread-safe, and one batch at a
time keeps the crash analysis simple); only the HTTP endpoints run on a side thread.
Retryable outages (PostgreSQL, Redis, the brokers) pause the loop through `Backoff` and
make /readyz fail; any other error ends the process. Nothing is acknowledged anywhere until
the ledger commit.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from functools import partial
from types import FrameType
from typing import TypeVar

from kafka import KafkaConsumer
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition

from settlement_aggregate import metrics
from settlement_aggregate.backoff import Backoff, Stopping
from settlement_aggregate.consumer import AssignmentTracker
from settlement_aggregate.decode import Record, split
from settlement_aggregate.dlq import DlqProducer
from settlement_aggregate.faults import FaultHook
from settlement_aggregate.health import Readiness
from settlement_aggregate.ledger import CommitResult, LedgerRepository
from settlement_aggregate.projection import Projection
from settlement_aggregate.registry import BankRegistry
from settlement_aggregate.settings import AggregateSettings
from settlement_core.buckets import Effect
from settlement_core.db import engine as db
from settlement_core.kafka_io import translate_errors as kafka_errors
from settlement_core.redis_io import translate_errors as redis_errors

logger = logging.getLogger(__name__)

T = TypeVar("T")

IDLE_CHECK_S = 2.0


def translated(what: str, action: Callable[[], T]) -> T:
    """Run `action` with every adapter's translation: each turns only its own client's
    retriable errors into a `Retryable`; everything else passes through as fatal."""
    with db.translate_errors(), redis_errors(), kafka_errors(what):
        return action()


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
        registry: BankRegistry,
    ) -> None:
        self._settings = settings
        self._codes = codes  # the catalogue's category codes (others are invalid events)
        self._registry = registry  # registered bank ids (others' events are dead-lettered)
        self._consumer = consumer
        self._tracker = tracker
        self._ledger = ledger
        self._projection = projection
        self._dlq = dlq
        self._readiness = readiness
        self._fault = fault
        self._topic = settings.events_topic
        self._backoff = Backoff(
            settings.aggregate_backoff_initial_s,
            settings.aggregate_backoff_max_s,
            readiness,
            stopping=lambda: self.stopping,
        )
        # partition -> next_offset this instance believes is recorded in PostgreSQL. Only
        # partitions in here are consumed; the ledger transaction checks the belief.
        self._beliefs: dict[int, int] = {}
        self.stopping = False
        self._last_idle_check = 0.0
        self._last_fence_check = 0.0

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        del frame
        logger.info("stop requested; finishing the current batch", extra={"signal": signum})
        self.stopping = True

    def _retry(self, what: str, action: Callable[[], T]) -> T:
        return self._backoff.retry(what, partial(translated, what, action))

    # -- assignment ----------------------------------------------------------------------
    def _sync(self) -> None:
        pending, revoked = self._tracker.drain()
        for p in revoked:
            self._beliefs.pop(p, None)
            metrics.forget_partition(p)
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
        if valid:
            valid, unknown = self._retry("bank registry", partial(self._registry.split, valid))
            invalid += unknown
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
                before_commit=lambda plan: self._dlq.publish(plan.dlq),
            ),
        )
        self._fault.after_ledger_commit()
        committed = time.perf_counter()
        metrics.record_batch(result.plan, valid_received=[v.envelope.received_at for v in valid])
        for c in result.committed:
            self._beliefs[c.partition] = c.new_next
        self._handle_fenced(result.fenced)
        by_partition: dict[int, list[Effect]] = defaultdict(list)
        for effect in result.plan.effects:
            by_partition[effect.partition].append(effect)
        for c in result.committed:
            effects = by_partition.get(c.partition, [])
            outcome = self._retry(
                "redis apply", partial(self._projection.apply, c.partition, c.prev_fence, c.new_fence, effects)
            )
            metrics.set_fence_lag(c.partition, max(0, c.new_fence - outcome.fence))
        finished = time.perf_counter()
        metrics.record_applied(finished - started)
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
                metrics.set_consumer_lag(p, max(0, high - position))

    def _check_fences(self) -> None:
        """Now and then, busy or idle: compare each owned partition's Redis fence with the
        ledger's offset of record and replay the ledger above the fence when it is behind.

        Redis replication is asynchronous: a failover can lose applied writes (fence and
        buckets together), and a partition that gets no new records would stay silently
        stale. A fence ahead of the ledger (PostgreSQL lost commits in a failover, Kafka
        re-delivers) needs nothing: applies below the fence are skipped by the fence itself.
        """
        now = time.monotonic()
        if now - self._last_fence_check < self._settings.aggregate_fence_check_s:
            return
        self._last_fence_check = now
        for p, position in list(self._beliefs.items()):
            record = position - 1
            fence = self._retry("redis fence", partial(self._projection.fence, p))
            metrics.set_fence_lag(p, max(0, record - fence))
            if fence < record:
                logger.warning(
                    "projection behind the ledger, repairing", extra={"partition": p, "fence": fence, "ledger": record}
                )
                outcome = self._retry("redis repair", partial(self._projection.catch_up, p, record, fence))
                metrics.set_fence_lag(p, max(0, record - outcome.fence))

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
                self._check_fences()
                self._update_lag()
        except Stopping:
            logger.info("stopped while waiting for a dependency; nothing was committed")
        logger.info("aggregator stopping")


__all__ = ["Aggregator", "Stopping", "translated"]
