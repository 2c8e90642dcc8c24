"""FX table read from PostgreSQL `fx_rates`, cached briefly.

Conversion happens at read time (settlement_core/fx.py), so a corrected rate shows up in
every total within `fx_cache_seconds`, without touching Redis.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from settlement_core.db.models import FxRateRow
from settlement_core.fx import FxRate, FxTable


class FxCache:
    def __init__(
        self, sessions: sessionmaker[Session], ttl_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._clock = clock
        self._table: FxTable | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def table(self) -> FxTable:
        if self._table is not None and self._clock() - self._loaded_at < self._ttl:
            return self._table
        async with self._lock:  # one reload even when many requests find the cache stale
            if self._table is None or self._clock() - self._loaded_at >= self._ttl:
                self._table = FxTable(await asyncio.to_thread(self._load))
                self._loaded_at = self._clock()
            return self._table

    def _load(self) -> list[FxRate]:
        with self._sessions() as session:
            rows = session.execute(select(FxRateRow)).scalars().all()
        return [FxRate(r.currency, r.valid_from, r.cny_per_unit, r.source, r.sample) for r in rows]
