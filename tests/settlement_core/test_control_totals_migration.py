"""Migration 0009 (control totals) on the real PostgreSQL: up from 0008 with a ledger in
place, the schema is the models', the constraints hold (one open break per line, an
append-only trail), and down to 0008 removes exactly its tables."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from settlement_core.db.migrate import alembic_config
from settlement_core.db.models import Base
from tests.support.databases import TestDatabases
from tests.support.stack import stack_env

pytestmark = pytest.mark.integration

NOW = datetime(2020, 2, 14, 9, 0, tzinfo=UTC)
TABLES = ("control_total_declarations", "control_total_lines", "control_total_breaks", "control_total_break_trail")


def tables(conn: Connection) -> set[str]:
    names = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
    return set(names)


def open_break(conn: Connection) -> int:
    return int(
        conn.execute(
            text("""
                INSERT INTO control_total_breaks (bank_id, period, target, currency, status, declared_count,
                  declared_amount, counted_count, counted_amount, opened_at)
                VALUES ('b1', '2020-01', 'cross_border_rmb', 'CNY', 'open', 3, 300.50, 2, 200.25, :t)
                RETURNING id
            """),
            {"t": NOW},
        ).scalar_one()
    )


def test_0009_up_constraints_and_down(test_databases: TestDatabases) -> None:
    url = test_databases.create(stack_env()["DATABASE_URL"], f"t_mig9_{uuid.uuid4().hex[:8]}")
    config = alembic_config(url)
    command.upgrade(config, "0008")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO banks (bank_id, name, active, rate_per_second, burst) VALUES ('b1', 'B', true, 1, 1)")
        )
        assert not set(TABLES) & tables(conn)
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert set(TABLES) <= tables(conn)
    with engine.begin() as conn:
        declaration = conn.execute(
            text("""
                INSERT INTO control_total_declarations (bank_id, period, version, lines_hash, declared_at)
                VALUES ('b1', '2020-01', 1, decode(repeat('ab', 32), 'hex'), :t) RETURNING id
            """),
            {"t": NOW},
        ).scalar_one()
        conn.execute(
            text("""
                INSERT INTO control_total_lines (declaration_id, target, currency, count, amount)
                VALUES (:d, 'cross_border_rmb', 'CNY', 3, 300.50)
            """),
            {"d": declaration},
        )
        break_id = open_break(conn)
        conn.execute(
            text("""
                INSERT INTO control_total_break_trail (break_id, at, action, actor, note, declaration_version,
                  declared_count, declared_amount, counted_count, counted_amount)
                VALUES (:b, :t, 'opened', 'system', 'declaration', 1, 3, 300.50, 2, 200.25)
            """),
            {"b": break_id, "t": NOW},
        )
        amount = conn.execute(text("SELECT amount FROM control_total_lines")).scalar_one()
        assert str(amount) == "300.5000"  # numeric, exact
    # A second open break of the same line is refused; a resolved one may sit beside it.
    with pytest.raises(IntegrityError, match="uq_ctl_break_open"), engine.begin() as conn:
        open_break(conn)
    with engine.begin() as conn:
        conn.execute(text("UPDATE control_total_breaks SET status = 'closed', resolved_at = :t"), {"t": NOW})
        open_break(conn)
    # The trail is append-only; a negative count or a status outside the three is refused.
    for statement, words in (
        ("UPDATE control_total_break_trail SET note = 'edited'", "append-only"),
        ("DELETE FROM control_total_break_trail", "append-only"),
        ("UPDATE control_total_lines SET count = -1", "ck_ctl_line_count"),
        ("UPDATE control_total_breaks SET status = 'gone'", "ck_ctl_break_status"),
    ):
        with pytest.raises(DBAPIError, match=words), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT note FROM control_total_break_trail")).scalar_one() == "declaration"
    command.downgrade(config, "0008")
    with engine.connect() as conn:
        assert not set(TABLES) & tables(conn)
        assert conn.execute(text("SELECT bank_id FROM banks")).scalar_one() == "b1"
        assert (
            conn.execute(
                text("SELECT count(*) FROM pg_proc WHERE proname = 'control_total_trail_append_only'")
            ).scalar()
            == 0
        )
    command.upgrade(config, "head")  # and forward again
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()
