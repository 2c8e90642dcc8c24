"""Step 0: the Kafka consumer. Offsets of record live in PostgreSQL, not in Kafka.

Auto-commit is off; assignment is cooperative-sticky. The rebalance listener only pauses
newly assigned partitions and hands them to the loop, which reads their offsets from
PostgreSQL, seeks there, catches the Redis projection up and resumes them
(loop.Aggregator._sync); doing that in the loop rather than inside poll() lets it retry
with backoff while PostgreSQL is down. Offsets are also committed to Kafka after each
ledger commit, for lag tooling only.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable

from kafka import KafkaConsumer
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
from kafka.structs import TopicPartition

from settlement_aggregate.settings import AggregateSettings
from settlement_core.kafka_io import KafkaAccess, client_config

logger = logging.getLogger(__name__)


class AssignmentTracker(ConsumerRebalanceListener):  # type: ignore[misc]
    """Collects assignment changes; the loop drains them between polls."""

    def __init__(self, consumer: KafkaConsumer) -> None:
        self._consumer = consumer
        self._lock = threading.Lock()
        self._pending: set[int] = set()
        self._revoked: set[int] = set()

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        parts = {tp.partition for tp in revoked}
        logger.info("partitions revoked", extra={"partitions": sorted(parts)})
        with self._lock:
            self._revoked |= parts
            self._pending -= parts

    def on_partitions_lost(self, lost: Iterable[TopicPartition]) -> None:
        """The group evicted us (session expired): another member may already own these, so
        every in-memory belief about them goes; the ledger fence refuses a stale write anyway."""
        parts = {tp.partition for tp in lost}
        logger.warning("partitions lost", extra={"partitions": sorted(parts)})
        with self._lock:
            self._revoked |= parts
            self._pending -= parts

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        tps = list(assigned)
        # Never let poll() hand out records from a Kafka-side position: only from the one
        # read from PostgreSQL (the loop seeks, then resumes).
        if tps:
            self._consumer.pause(*tps)
        parts = {tp.partition for tp in tps}
        logger.info("partitions assigned", extra={"partitions": sorted(parts)})
        with self._lock:
            self._pending |= parts
            self._revoked -= parts

    def drain(self) -> tuple[set[int], set[int]]:
        """(newly assigned, revoked) since the last call."""
        with self._lock:
            pending, revoked = self._pending, self._revoked
            self._pending, self._revoked = set(), set()
        return pending, revoked

    def defer(self, partitions: Iterable[int]) -> None:
        """Put partitions back for the next sync (it failed, or their fence moved)."""
        with self._lock:
            self._pending |= set(partitions)


def build_consumer(settings: AggregateSettings) -> tuple[KafkaConsumer, AssignmentTracker]:
    consumer = KafkaConsumer(
        **client_config(KafkaAccess.from_settings(settings)),
        group_id=settings.consumer_group,
        client_id=f"settlement-aggregate-{os.getpid()}",
        group_instance_id=settings.aggregate_instance_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.aggregate_batch_size,
        session_timeout_ms=settings.aggregate_session_timeout_ms,
        heartbeat_interval_ms=max(1000, settings.aggregate_session_timeout_ms // 4),
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_min_bytes=settings.aggregate_fetch_min_bytes,
        fetch_max_wait_ms=settings.aggregate_fetch_max_wait_ms,
        # Incremental rebalances (KIP-429): adding or losing an instance moves only the
        # partitions that must move; the others keep being consumed meanwhile.
        partition_assignment_strategy=[CooperativeStickyAssignor],
    )
    # Know the topic's partitions before joining: kafka-python's sticky assignors hand out
    # nothing for a topic without metadata, and the cooperative protocol did not rejoin
    # once the metadata arrived (reproduced: a fresh group stayed with no partitions).
    consumer.partitions_for_topic(settings.events_topic)
    tracker = AssignmentTracker(consumer)
    consumer.subscribe([settings.events_topic], listener=tracker)
    return consumer, tracker
