"""Process-wide resources of one app instance, created in the lifespan (never at import)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import redis.asyncio as aioredis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from settlement_api.bucket_store import BucketStore
from settlement_api.disclosure import ContributorReader
from settlement_api.fx_cache import FxCache
from settlement_api.rate_limit import RateLimiter
from settlement_api.settings import ApiSettings
from settlement_core.business_days import today
from settlement_core.catalogue import Catalogue, Target


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: ApiSettings
    catalogue: Catalogue
    # The catalogue's latest target period, one target per code (what "the targets" means
    # where no period is asked for).
    targets: tuple[Target, ...]
    redis: aioredis.Redis
    # Synchronous SQLAlchemy (as settlement_core.auth expects); PostgreSQL is only read for
    # point lookups and the FX table, run in worker threads to keep the event loop free.
    engine: Engine
    sessions: sessionmaker[Session]
    store: BucketStore
    fx: FxCache
    limiter: RateLimiter
    contributors: ContributorReader

    def today(self) -> date:
        """Business date: the plan's figures are per calendar day in Asia/Shanghai."""
        return today(self.settings.business_timezone)

    def target(self, code: str) -> Target | None:
        return next((t for t in self.targets if t.code == code), None)
