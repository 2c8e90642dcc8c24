"""Engine factory shared by every process (Alembic lives in `migrate.py`, so that the
services' start-up does not pay for importing it)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine


def make_engine(url: str, pool_size: int = 5) -> Engine:
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_recycle=1800)
