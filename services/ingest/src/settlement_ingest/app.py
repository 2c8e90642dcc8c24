"""App factory. Clients are created in the lifespan, never at import time, so importing
the package (tests, OpenAPI export) touches no network."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy.orm import sessionmaker

from settlement_core.bank_credentials import CredentialCache
from settlement_core.db.engine import make_engine
from settlement_core.gc_tuning import tune_after_startup
from settlement_core.http_hardening import install_http_hardening
from settlement_core.http_metrics import RequestMetricsMiddleware
from settlement_core.kafka_io import EventProducer, KafkaAccess
from settlement_core.problems import install_problem_handlers
from settlement_core.redis_io import async_client
from settlement_core.secret_box import SecretBox
from settlement_core.tlog.issuer import ReceiptIssuer
from settlement_ingest.deps import Resources
from settlement_ingest.idempotency import IdempotencyStore
from settlement_ingest.metrics import IngestMetrics
from settlement_ingest.openapi import build as build_openapi
from settlement_ingest.probes import kafka_reachable
from settlement_ingest.ratelimit import RateLimiter
from settlement_ingest.rejections import flush_every
from settlement_ingest.routes import router
from settlement_ingest.service import Intake, rules_from
from settlement_ingest.settings import IngestSettings

logger = logging.getLogger(__name__)

KAFKA_WATCH_INTERVAL_S = 5.0


async def _watch_kafka(
    settings: IngestSettings, intake: Intake, metrics: IngestMetrics, stopping: asyncio.Event
) -> None:
    """Keeps `ingest_kafka_up` current even when no bank is sending, until `stopping` is set.

    The flag, not only the task's cancellation, ends the loop: on Python 3.11 `wait_for`
    returns the inner result and drops a cancellation that lands as the inner future
    completes (fixed in 3.12), so a cancel during the probe's connect could be lost and the
    shutdown's `await watcher` waited forever (CI 2026-12-07: an ingest stuck in "Waiting
    for application shutdown" for 10 minutes after SIGTERM)."""
    while not stopping.is_set():
        reachable = await kafka_reachable(settings.kafka_bootstrap)
        metrics.kafka_up.set(1 if reachable and not intake.kafka_down else 0)
        with suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), KAFKA_WATCH_INTERVAL_S)


@functools.cache
def _secret_box() -> SecretBox:
    # Read once, on the first signed request: a service whose banks never sign needs no key.
    return SecretBox.from_env()


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    settings = settings or IngestSettings()  # from the environment
    metrics = IngestMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = async_client(settings.redis_url, mode=settings.redis_mode)
        engine = make_engine(
            settings.database_url, pool_size=5, round_trip_deadline_s=settings.database_round_trip_deadline_s
        )
        producer = EventProducer(
            KafkaAccess.from_settings(settings), timeout_s=settings.produce_timeout_s, client_id="settlement-ingest"
        )
        intake = Intake(
            settings,
            producer,
            IdempotencyStore(
                redis, pending_ttl_s=settings.idempotency_pending_ttl_s, done_ttl_s=settings.idempotency_ttl_s
            ),
            RateLimiter(redis),
            metrics,
            ReceiptIssuer.from_env(),
        )
        sessions = sessionmaker(engine)
        credentials = CredentialCache(
            sessions,
            _secret_box,
            window_s=settings.signature_window_s,
            hmac_v1_allowed=settings.hmac_v1_allowed,
        )
        app.state.resources = Resources(settings, redis, engine, sessions, producer, intake, metrics, credentials)
        logger.info("ingest started", extra={"topic": settings.events_topic, "kafka": settings.kafka_bootstrap})
        stopping = asyncio.Event()
        watcher = asyncio.create_task(_watch_kafka(settings, intake, metrics, stopping))
        flusher = asyncio.create_task(
            flush_every(intake.rejections, engine, settings.rejections_flush_seconds, stopping)
        )
        tune_after_startup()
        try:
            yield
        finally:
            stopping.set()
            watcher.cancel()
            with suppress(asyncio.CancelledError):
                await watcher
            # The flusher writes once more after `stopping`: a SIGTERM loses no count.
            with suppress(Exception):
                await asyncio.wait_for(flusher, 10)
            with suppress(Exception):
                await asyncio.to_thread(producer.close)
            await redis.aclose()
            engine.dispose()
            metrics.close()
            logger.info("ingest stopped")

    app = FastAPI(
        title="Settlement ingest",
        version="1.0.0",
        lifespan=lifespan,
        description="Bank settlement event intake. See docs/ingest-contract.md.",
    )
    install_problem_handlers(app)
    install_http_hardening(app)  # security headers; /docs assets served locally, never from a CDN
    app.add_middleware(RequestMetricsMiddleware, requests=metrics.requests, duration=metrics.duration)
    app.include_router(router)

    rules = rules_from(settings)
    zone = ZoneInfo(settings.business_timezone)
    cached: dict[date, dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        # The value_date window moves with the business day: one document per day.
        today = datetime.now(zone).date()
        if today not in cached:
            cached.clear()
            cached[today] = build_openapi(app, rules, today, settings.max_batch_events)
        return cached[today]

    app.openapi = openapi  # type: ignore[method-assign]
    return app
