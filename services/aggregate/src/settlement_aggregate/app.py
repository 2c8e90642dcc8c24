"""Process wiring of the aggregator: settings, clients, the HTTP side thread, signals.

The loop itself is `loop.Aggregator`; the retry policy is `backoff.Backoff`.
"""

from __future__ import annotations

import logging
import signal
from functools import partial

from settlement_aggregate import metrics
from settlement_aggregate.backoff import Backoff
from settlement_aggregate.consumer import build_consumer
from settlement_aggregate.dlq import DlqProducer
from settlement_aggregate.faults import FaultHook
from settlement_aggregate.health import Readiness, serve
from settlement_aggregate.ledger import LedgerRepository
from settlement_aggregate.loop import Aggregator, translated
from settlement_aggregate.projection import Projection
from settlement_aggregate.registry import BankRegistry
from settlement_aggregate.settings import AggregateSettings
from settlement_core.catalogue import load_catalogue
from settlement_core.db.engine import make_engine
from settlement_core.gc_tuning import tune_after_startup
from settlement_core.kafka_io import KafkaAccess
from settlement_core.logs import configure_logging
from settlement_core.redis_io import sync_client

logger = logging.getLogger(__name__)


def main() -> None:
    settings = AggregateSettings()
    configure_logging(settings.log_level)
    fault = FaultHook.parse(settings.aggregate_fault)
    catalogue = load_catalogue(settings.targets_file)  # a bad catalogue stops start-up here
    readiness = Readiness()
    metrics.READY.set(0)
    server = serve(settings.aggregate_host, settings.aggregate_port, readiness)
    engine = make_engine(
        settings.database_url, pool_size=2, round_trip_deadline_s=settings.database_round_trip_deadline_s
    )
    startup = Backoff(
        settings.aggregate_backoff_initial_s, settings.aggregate_backoff_max_s, readiness, stopping=lambda: False
    )
    # redis-py's RedisCluster reads the slot map in its constructor and raises when no node
    # answers: the nemesis (seed 20261207) restarted an aggregator during a Redis partition
    # and it exited at once instead of waiting for Redis like every other dependency.
    client = startup.retry(
        "redis connect",
        partial(
            translated,
            "redis connect",
            partial(sync_client, settings.redis_url, timeout_s=30.0, mode=settings.redis_mode),
        ),
    )
    ledger = LedgerRepository(engine, settings.consumer_group, settings.events_topic)
    projection = Projection(client, ledger, settings.aggregate_replay_chunk, catalogue.rules)
    dlq = DlqProducer(KafkaAccess.from_settings(settings), settings.dlq_topic, settings.events_topic)
    # kafka-python's constructor bootstraps synchronously and raises if no broker answers.
    consumer, tracker = startup.retry(
        "kafka connect", partial(translated, "kafka connect", partial(build_consumer, settings))
    )
    aggregator = Aggregator(
        settings,
        consumer,
        tracker,
        ledger,
        projection,
        dlq,
        readiness,
        fault,
        catalogue.codes,
        BankRegistry.from_engine(engine),
    )
    signal.signal(signal.SIGTERM, aggregator.request_stop)
    signal.signal(signal.SIGINT, aggregator.request_stop)
    tune_after_startup()
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
