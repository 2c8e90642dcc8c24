"""Migration 0011 (corrections) on the real PostgreSQL: up from 0010 with a ledger in place,
the rows read as before (NULL: no correction) and the schema is the models'; down refuses
while a correction is stored (it would count as an original again) and otherwise removes
exactly its columns and index."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine, text

from settlement_core.db.migrate import alembic_config
from settlement_core.db.models import Base
from tests.support.databases import TestDatabases
from tests.support.stack import stack_env

pytestmark = pytest.mark.integration

COLUMNS = {"corrects", "reason_code", "reason_text"}


def ledger_columns(conn: Connection) -> set[str]:
    return set(
        conn.execute(
            text("SELECT column_name FROM information_schema.columns WHERE table_name = 'ledger_events'")
        ).scalars()
    )


def insert(conn: Connection, event_id: str, extra: str = "", values: str = "") -> None:
    conn.execute(
        text(
            "INSERT INTO ledger_events (bank_id, event_id, body_hash, categories, amount, currency, value_date,"
            " direction, counterparty_country, status, kafka_partition, kafka_offset, ingested_at, applied_at"
            f"{extra}) VALUES ('b1', :id, decode(repeat('ab', 32), 'hex'), ARRAY['offshore'], 10, 'CNY',"
            f" '2020-01-02', 'outbound', 'SG', 'counted', 0, 1, now(), now(){values})"
        ),
        {"id": event_id},
    )


def test_0011_up_keeps_rows_and_down_refuses_while_a_correction_is_stored(test_databases: TestDatabases) -> None:
    url = test_databases.create(stack_env()["DATABASE_URL"], f"t_mig11_{uuid.uuid4().hex[:8]}")
    config = alembic_config(url)
    command.upgrade(config, "0010")
    engine = create_engine(url)
    with engine.begin() as conn:
        assert not COLUMNS & ledger_columns(conn)
        insert(conn, "o1")
    # Up through 0011 to the head (later migrations add only tables of their own), where the
    # schema is the models' exactly.
    command.upgrade(config, "head")
    with engine.begin() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        row = conn.execute(text("SELECT corrects, reason_code, reason_text FROM ledger_events")).one()
        assert tuple(row) == (None, None, None)
        insert(conn, "c1", ", corrects, reason_code", ", 'o1', 'WRONG_AMOUNT'")
    with pytest.raises(RuntimeError, match="corrections"):
        command.downgrade(config, "0010")
    with engine.begin() as conn:
        assert ledger_columns(conn) >= COLUMNS
        conn.execute(text("DELETE FROM ledger_events WHERE event_id = 'c1'"))
    command.downgrade(config, "0010")
    with engine.begin() as conn:
        assert not COLUMNS & ledger_columns(conn)
        assert (
            conn.execute(text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_ledger_corrects'")).scalar() == 0
        )
        assert conn.execute(text("SELECT event_id FROM ledger_events")).scalars().all() == ["o1"]
    engine.dispose()
