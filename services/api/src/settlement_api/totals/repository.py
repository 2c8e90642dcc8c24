"""Reads for the totals slice: bucket values from Redis and bank existence from PostgreSQL.
Nothing here decides anything; totals/service.py plans the read and evaluates it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from settlement_api.bucket_store import BucketStore, Seen
from settlement_core.db.models import Bank


async def read_seen(store: BucketStore) -> Seen:
    return await store.seen()


async def read_fields(store: BucketStore, fields: Sequence[str]) -> dict[str, int]:
    return await store.sum_fields(fields)


def _bank_exists(sessions: sessionmaker[Session], bank_id: str) -> bool:
    with sessions() as session:
        found = session.scalar(select(Bank.bank_id).where(Bank.bank_id == bank_id))
    return found is not None


async def bank_exists(sessions: sessionmaker[Session], bank_id: str) -> bool:
    return await asyncio.to_thread(_bank_exists, sessions, bank_id)
