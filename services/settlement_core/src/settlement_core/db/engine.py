"""Engine factory shared by every process (Alembic lives in `migrate.py`, so that the
services' start-up does not pay for importing it), and the ledger's retryable errors.

For a primary with standbys the URL lists every host and asks for the writable one:
`postgresql+psycopg://u:pw@/db?host=h1:p1&host=h2:p2&target_session_attrs=read-write`;
after a promotion, pool_pre_ping drops the dead connections and the next connect finds
the new primary.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import InterfaceError, OperationalError

from settlement_core.db import deadline
from settlement_core.errors import LedgerUnavailable

# Connection-level failures only: a constraint violation or a bad statement is a bug.
RETRIABLE: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def make_engine(url: str, pool_size: int = 5, round_trip_deadline_s: float | None = None) -> Engine:
    """`round_trip_deadline_s`: the services' client-side deadline on each PostgreSQL round
    trip (`deadline.py`, setting DATABASE_ROUND_TRIP_DEADLINE_S); None for the operator's
    tools, whose reconcile or rebuild may legitimately run one long statement."""
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_recycle=1800)
    if round_trip_deadline_s is not None:
        deadline.install(engine, round_trip_deadline_s)
    return engine


@contextmanager
def translate_errors() -> Iterator[None]:
    try:
        yield
    except RETRIABLE as exc:
        raise LedgerUnavailable(f"{type(exc).__name__}: {str(exc)[:300]}") from exc
