"""GET /metrics (public, market-wide) and GET /metrics/banks (scrape token, per bank).

/metrics/banks answers only `Authorization: Bearer <METRICS_SCRAPE_TOKEN>`, compared in
constant time; anything else is 401 problem+json. Every request here is charged to the
caller's address (anonymous.AnonymousGate), so the token cannot be guessed at speed.
Without METRICS_SCRAPE_TOKEN the endpoint is off (404).
"""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from settlement_api.deps import SettingsDep
from settlement_api.metrics.collector import RESTRICTED, BuildInfo, BusinessCollector, BusinessReader
from settlement_core.problems import Problem
from settlement_core.redis_io import RedisUnavailable

logger = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])
SCRAPE_REALM = "settlement-metrics"


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    reader: BusinessReader = request.app.state.business
    build: BuildInfo = request.app.state.build
    try:
        snapshot = await reader.snapshot()
    except (RedisUnavailable, SQLAlchemyError, OSError):
        # Still answer: request metrics and settlement_business_metrics_up 0 tell the story.
        logger.warning("business metrics unavailable", exc_info=True)
        snapshot = None
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(BusinessCollector(snapshot, build))
    body = generate_latest(request.app.state.http_registry) + generate_latest(scrape)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def scrape_token_matches(header: str | None, token: str) -> bool:
    scheme, _, presented = (header or "").partition(" ")
    # compare_digest: the time taken does not depend on how much of the token matched.
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())


@router.get("/metrics/banks", include_in_schema=False)
async def bank_metrics(request: Request, settings: SettingsDep) -> Response:
    token = settings.metrics_scrape_token
    if token is None or not token.get_secret_value():
        raise Problem(404, "Not found", "Per-bank metrics are off (METRICS_SCRAPE_TOKEN is not set).", "not-found")
    if not scrape_token_matches(request.headers.get("authorization"), token.get_secret_value()):
        raise Problem(
            401,
            "Unauthorized",
            "Per-bank metrics need 'Authorization: Bearer <METRICS_SCRAPE_TOKEN>'.",
            "unauthorized",
            headers={"WWW-Authenticate": f'Bearer realm="{SCRAPE_REALM}"'},
        )
    reader: BusinessReader = request.app.state.business
    build: BuildInfo = request.app.state.build
    # No fallback here: a failed read is a failed scrape (up 0 for this job), which is the
    # honest answer for series that only this endpoint carries.
    snapshot = await reader.snapshot(with_banks=True)
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(BusinessCollector(snapshot, build, RESTRICTED))
    return Response(generate_latest(scrape), media_type=CONTENT_TYPE_LATEST)
