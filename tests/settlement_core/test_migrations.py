"""Alembic 0002 against the real PostgreSQL: a ledger written by 0001 becomes one-category
lists, the schema matches the models, and the way back works for such a ledger."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from settlement_core.db.migrate import alembic_config
from settlement_core.db.models import Base
from tests.conftest import _create_database, stack_env

pytestmark = pytest.mark.integration

NOW = datetime(2020, 3, 1, tzinfo=UTC)


def test_existing_rows_become_one_category_lists() -> None:
    url = _create_database(stack_env()["DATABASE_URL"], f"t_mig_{uuid.uuid4().hex[:8]}")
    config = alembic_config(url)
    command.upgrade(config, "0001")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("""
                INSERT INTO ledger_events (bank_id, event_id, body_hash, category, amount, currency, value_date,
                  direction, counterparty_country, status, kafka_partition, kafka_offset, ingested_at, applied_at)
                VALUES ('b1', 'e1', 'h', 'offshore', 12.5, 'USD', :d, 'inbound', 'HK', 'counted', 0, 7, :t, :t)
            """),
            {"d": date(2020, 3, 1), "t": NOW},
        )
        conn.execute(
            text("""
                INSERT INTO ledger_effects (kafka_partition, kafka_offset, bank_id, event_id, category, value_date,
                  currency, direction, counterparty_country, amount_minor, processed_at)
                VALUES (0, 7, 'b1', 'e1', 'offshore', :d, 'USD', 'inbound', 'HK', 1250, :t)
            """),
            {"d": date(2020, 3, 1), "t": NOW},
        )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT categories FROM ledger_events")).scalar_one() == ["offshore"]
        assert conn.execute(text("SELECT categories FROM ledger_effects")).scalar_one() == ["offshore"]
        # The migrated schema is the models' schema (nothing left for autogenerate).
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    command.downgrade(config, "0001")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT category FROM ledger_events")).scalar_one() == "offshore"
    engine.dispose()
