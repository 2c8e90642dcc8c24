"""The audit log as the API sees it: operator reads of per-bank data are written before the
data is served (a read that cannot be logged is refused with 503, never served unlogged),
and operators page through the log (settlement_core.audit)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from settlement_api.ledger.schemas import AuditEntryOut, AuditPageOut
from settlement_core import audit
from settlement_core.problems import Problem


def _unavailable() -> Problem:
    return Problem(503, "Service unavailable", "The audit log cannot be written or read right now.", "unavailable")


async def record_operator_read(
    sessions: sessionmaker[Session], operator: str, path: str, query: Mapping[str, str]
) -> None:
    def write() -> None:
        with sessions() as session, session.begin():
            audit.record(session, f"operator:{operator}", "operator.read", path, {"query": dict(query)})

    try:
        await asyncio.to_thread(write)
    except SQLAlchemyError:
        raise _unavailable() from None


async def read_page(sessions: sessionmaker[Session], before: int | None, limit: int) -> AuditPageOut:
    def read() -> list[audit.AuditRecord]:
        with sessions() as session:
            return audit.page(session, before_id=before, limit=limit)

    try:
        records = await asyncio.to_thread(read)
    except SQLAlchemyError:
        raise _unavailable() from None
    entries = [
        AuditEntryOut(id=r.id, at=r.at, actor=r.actor, action=r.action, subject=r.subject, detail=dict(r.detail))
        for r in records
    ]
    return AuditPageOut(entries=entries, next_before=entries[-1].id if len(entries) == limit else None)
