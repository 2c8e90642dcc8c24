from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from settlement_api.bucket_store import BucketStore
from settlement_api.totals.schemas import TotalsOut
from settlement_api.totals.service import TotalsQuery, evaluate_series, plan_series
from settlement_core.db.models import Bank
from settlement_core.fx import FxTable


async def read_totals(store: BucketStore, fx: FxTable, query: TotalsQuery) -> TotalsOut:
    series = plan_series(query, await store.seen(), fx)
    return evaluate_series(series, await store.sum_fields(series.fields))


def _bank_exists(sessions: sessionmaker[Session], bank_id: str) -> bool:
    with sessions() as session:
        found = session.scalar(select(Bank.bank_id).where(Bank.bank_id == bank_id))
    return found is not None


async def bank_exists(sessions: sessionmaker[Session], bank_id: str) -> bool:
    return await asyncio.to_thread(_bank_exists, sessions, bank_id)
