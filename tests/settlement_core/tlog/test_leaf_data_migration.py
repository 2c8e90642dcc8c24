"""Migration 0008 on the real PostgreSQL: leaves logged before it get their leaf data from
their ledger rows, but only where the rebuilt leaf is the logged one (a row already edited
by hand gives none), and the append-only trigger is back on afterwards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from settlement_client.tlog.hashing import leaf_hash
from settlement_core.db.migrate import alembic_config
from settlement_core.tlog.integrate import integrate_once
from tests.settlement_core.tlog.ledger_rows import SALT_KEY, insert_rows, new_database, new_keys
from tests.support.databases import TestDatabases

pytestmark = pytest.mark.integration


def test_0008_fills_the_leaf_data_of_unedited_rows_only(test_databases: TestDatabases) -> None:
    url = new_database(test_databases)
    engine = create_engine(url)
    with engine.begin() as conn:
        insert_rows(conn, "BANK1", 0, 6)
    with engine.begin() as conn:
        integrate_once(conn, new_keys(), SALT_KEY, batch=100, lag_s=30, now=datetime(2026, 12, 7, tzinfo=UTC))
    config = alembic_config(url)
    command.downgrade(config, "0007")  # as a log written before 0008 was
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_events SET body_hash = decode(repeat('00', 32), 'hex') WHERE event_id = 'E-2'")
        )
    command.upgrade(config, "0008")
    with engine.connect() as conn:
        rows = conn.execute(
            text("""SELECT e.event_id, l.leaf_hash, l.leaf_data FROM tlog_leaves l
                    JOIN ledger_events e ON e.id = l.ledger_row_id ORDER BY l.idx""")
        ).all()
    assert len(rows) == 6
    for event_id, logged, data in rows:
        if event_id == "E-2":
            assert data is None
        else:
            assert data is not None
            assert leaf_hash(bytes(data)) == bytes(logged)
            assert f'"event_id":"{event_id}"'.encode() in bytes(data)
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE tlog_leaves SET leaf_data = NULL"))
    engine.dispose()
