"""Process-wide resources of one app instance, created in the lifespan (never at import).

The same kind of container as settlement_ingest's `Resources`: routes take the pieces they
use through deps.py (`Figures` for the reads of figures), services take those pieces,
never the container."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import redis.asyncio as aioredis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from settlement_api.kit.bucket_store import BucketStore, FigureStore
from settlement_api.kit.disclosure import ContributorReader
from settlement_api.kit.fx_cache import FxCache
from settlement_api.quality.weights import QualityWeights
from settlement_api.rate_limit import RateLimiter
from settlement_api.settings import ApiSettings
from settlement_core.catalogue import Catalogue, Target
from settlement_core.deadlines import Deadlines


@dataclass(frozen=True, slots=True)
class Resources:
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
    # seeds/deadlines.yaml (ApiSettings.deadlines_path): control totals' due dates; None when
    # no deadlines file is configured or found (the due dates are then null).
    deadlines: Deadlines | None
    # seeds/quality.yaml (ApiSettings.quality_path); None when none is configured or found.
    quality: QualityWeights | None


@dataclass(frozen=True, slots=True)
class Figures:
    """What every read of figures uses: the Redis buckets, the FX table's cache, the shared
    contributor counts, the catalogue with its latest targets, the settings, and today."""

    store: FigureStore
    fx: FxCache
    contributors: ContributorReader
    catalogue: Catalogue
    # The catalogue's latest target period (Resources.targets).
    targets: tuple[Target, ...]
    settings: ApiSettings
    today: date  # the business date: the plan's figures are per calendar day in Asia/Shanghai
