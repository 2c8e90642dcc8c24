from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from settlement_api.metrics.collector import BuildInfo, BusinessCollector, BusinessReader
from settlement_core.redis_io import RedisUnavailable

logger = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])


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
