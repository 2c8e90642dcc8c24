"""settlement_core.tlog.store.LogReader (which holds the log's SQL) run in worker threads:
the API's PostgreSQL access is synchronous (resources.py)."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from settlement_client.tlog.proofs import ConsistencyProof
from settlement_client.tlog.tlog_proof import TlogProof
from settlement_core.tlog.store import LogReader, StoredCheckpoint


def _latest(engine: Engine) -> StoredCheckpoint | None:
    with engine.connect() as conn:
        return LogReader(conn).latest_checkpoint()


def _keys(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return LogReader(conn).published_keys()


def _consistency(engine: Engine, old: int, new: int) -> tuple[int, ConsistencyProof | None]:
    """The newest size, and the proof if `new` is within it."""
    # One snapshot: the size checked is the size the proof is built in.
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        reader = LogReader(conn)
        latest = reader.latest_checkpoint()
        size = 0 if latest is None else latest.size
        return size, (reader.consistency(old, new) if new <= size else None)


def _proof(engine: Engine, bank_id: str, event_id: str) -> TlogProof | None:
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        return LogReader(conn).proof(bank_id, event_id)


async def latest_checkpoint(engine: Engine) -> StoredCheckpoint | None:
    return await asyncio.to_thread(_latest, engine)


async def published_keys(engine: Engine) -> list[str]:
    return await asyncio.to_thread(_keys, engine)


async def consistency(engine: Engine, old: int, new: int) -> tuple[int, ConsistencyProof | None]:
    return await asyncio.to_thread(_consistency, engine, old, new)


async def inclusion_proof(engine: Engine, bank_id: str, event_id: str) -> TlogProof | None:
    return await asyncio.to_thread(_proof, engine, bank_id, event_id)
