"""App factory. Connections are created in the lifespan, never at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy.orm import sessionmaker

from settlement_api.anonymous import AnonymousGate
from settlement_api.control_totals.routes import router as control_totals_router
from settlement_api.deps import scoring_of
from settlement_api.kit.bucket_store import BucketStore
from settlement_api.kit.checkpoints import checkpoint_periodically
from settlement_api.kit.disclosure import ContributorReader
from settlement_api.kit.fx_cache import FxCache
from settlement_api.kit.known_at import known_base
from settlement_api.ledger.routes import router as ledger_router
from settlement_api.metrics.collector import BuildInfo, BusinessReader
from settlement_api.metrics.http import HttpMetrics
from settlement_api.metrics.routes import router as metrics_router
from settlement_api.openapi import build as build_openapi
from settlement_api.progress.routes import router as progress_router
from settlement_api.quality.routes import router as quality_router
from settlement_api.quality.weights import QualityWeights, load_weights
from settlement_api.rate_limit import Quota, RateLimiter
from settlement_api.receipts.routes import router as receipts_router
from settlement_api.releases.routes import router as releases_router
from settlement_api.resources import Resources
from settlement_api.sdmx.routes import router as sdmx_router
from settlement_api.settings import ApiSettings
from settlement_api.timeliness.routes import router as timeliness_router
from settlement_api.totals.routes import router as totals_router
from settlement_api.web.routes import router as web_router
from settlement_core.catalogue import load_catalogue
from settlement_core.db.engine import make_engine
from settlement_core.deadlines import Deadlines, load_deadlines
from settlement_core.http_hardening import install_http_hardening
from settlement_core.problems import install_problem_handlers
from settlement_core.redis_io import async_client

logger = logging.getLogger(__name__)


def package_version() -> str:
    try:
        return version("settlement-api")
    except PackageNotFoundError:  # running from a source tree without metadata
        return "0.0.0"


def _deadlines(config: ApiSettings) -> Deadlines | None:
    """The reporting deadlines; a bad file stops the start, naming its field."""
    path = config.deadlines_path
    if path is None:
        logger.warning(
            "no deadlines file (DEADLINES_FILE unset, none beside TARGETS_FILE): control totals show no due date"
        )
        return None
    return load_deadlines(path)


def _quality(config: ApiSettings) -> QualityWeights | None:
    """The data-quality score's weights; a bad file stops the start, naming its field."""
    path = config.quality_path
    if path is None:
        logger.warning("no quality file (QUALITY_FILE unset, none beside TARGETS_FILE): no data-quality scores")
        return None
    return load_weights(path)


def _docs_enabled() -> bool:
    # The routes are fixed when the app is built, before the lifespan reads the settings;
    # DOCS_ENABLED alone is read here (the full settings need the database URL etc.).
    return os.environ.get("DOCS_ENABLED", "true").strip().lower() not in ("0", "false", "no", "off")


def _base_time(app: FastAPI) -> float:
    """The known_at base's knowledge time (kit/known_at.py, KnownBase) as unix seconds; 0: none."""
    base = getattr(app.state, "known_at_base", None)
    at = None if base is None else base.at
    return 0.0 if at is None else float(at.timestamp())


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config = settings or ApiSettings()
        catalogue = load_catalogue(config.targets_file)  # fail at start-up, not on first request
        targets = catalogue.targets_for(catalogue.latest_period)
        redis = async_client(config.redis_url, mode=config.redis_mode)
        engine = make_engine(
            config.database_url, pool_size=5, round_trip_deadline_s=config.database_round_trip_deadline_s
        )
        sessions = sessionmaker(engine, expire_on_commit=False)
        store = BucketStore(redis)
        fx = FxCache(sessions, config.fx_cache_seconds)
        contributors = ContributorReader(store, config.contributors_cache_seconds)
        app.state.resources = Resources(
            config,
            catalogue,
            targets,
            redis,
            engine,
            sessions,
            store,
            fx,
            RateLimiter(
                redis,
                Quota(config.rate_per_key, config.burst_per_key),
                Quota(config.rate_per_address, config.burst_per_address),
            ),
            contributors,
            _deadlines(config),
            _quality(config),
        )
        app.state.business = BusinessReader(
            store, fx, contributors, sessions, catalogue, targets, config, scoring_of(app.state.resources)
        )
        app.state.build = BuildInfo(config.build_version or package_version(), config.build_commit)
        app.state.known_at_base = known_base(engine)
        # Checkpoints and the base's moves run long statements on their own connection, with
        # their own (longer) round-trip deadline: requests keep DATABASE_ROUND_TRIP_DEADLINE_S.
        maintenance = make_engine(
            config.database_url, pool_size=1, round_trip_deadline_s=config.known_at_maintenance_deadline_s
        )
        writer = (
            asyncio.create_task(
                checkpoint_periodically(
                    engine,
                    catalogue.rules,
                    config.known_at_base_seconds,
                    config.known_at_checkpoint_seconds,
                    config.known_at_checkpoints_kept,
                    maintenance,
                )
            )
            if config.known_at_base_seconds > 0
            else None
        )
        try:
            yield
        finally:
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writer
            await redis.aclose()
            engine.dispose()
            maintenance.dispose()

    app = FastAPI(
        title="Settlement volume tracker API",
        version=package_version(),
        description="Progress toward the plan's settlement targets, and banks' control totals. See docs/api.md.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.state.http_registry = CollectorRegistry(auto_describe=True)
    Gauge(
        "settlement_known_at_base_time_seconds",
        "Knowledge time (unix) up to which this API process holds known_at figures in memory; 0: none yet",
        registry=app.state.http_registry,
    ).set_function(lambda: _base_time(app))
    HttpMetrics(app.state.http_registry).install(app)
    # Outermost last: security headers on everything, including the gate's 429s and the
    # cached anonymous answers; the gate charges requests without a key per address.
    app.add_middleware(AnonymousGate)
    install_http_hardening(app, docs=settings.docs_enabled if settings else _docs_enabled())

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    def openapi() -> dict[str, Any]:
        # Built once the lifespan has read the settings: public mode changes the security.
        resources: Resources | None = getattr(app.state, "resources", None)
        if app.openapi_schema is None or resources is None:
            document = build_openapi(
                app, resources.settings if resources else settings, resources.catalogue if resources else None
            )
            if resources is None:
                return document
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    # In the order of the published document: figures, the ledger and operator views, a bank's
    # timeliness and quality score, control totals, operations, pages, the transparency log,
    # releases.
    routers = (
        progress_router,
        totals_router,
        ledger_router,
        timeliness_router,
        quality_router,
        control_totals_router,
        metrics_router,
        web_router,
    )
    for router in (*routers, receipts_router, releases_router):
        app.include_router(router)
    app.include_router(sdmx_router)  # SDMX export (docs/statistics.md)
    return app
