"""The audit recomputes the log from the ledger and names what was changed by hand: an
amount edited (stored body hash left alone), a body hash edited, a row deleted, a row
inserted below the low-water mark, and the log's own table rewritten with its trigger off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, text

from settlement_core.tlog.audit import AuditReport, audit_log
from settlement_core.tlog.integrate import integrate_once
from tests.settlement_core.tlog.ledger_rows import SALT_KEY, insert_rows, new_database, new_keys
from tests.support.databases import TestDatabases

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(test_databases: TestDatabases) -> Iterator[Engine]:
    engine = create_engine(new_database(test_databases))
    keys = new_keys()
    with engine.begin() as conn:
        insert_rows(conn, "BANK1", 0, 10)
    with engine.begin() as conn:
        integrate_once(conn, keys, SALT_KEY, batch=4, lag_s=30, now=NOW)
    with engine.begin() as conn:
        integrate_once(conn, keys, SALT_KEY, batch=100, lag_s=30, now=NOW)
    yield engine
    engine.dispose()


def _audit(engine: Engine, chunk: int = 3) -> AuditReport:
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        return audit_log(conn, SALT_KEY, chunk=chunk)


def _leaf_of(engine: Engine, event_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("""SELECT l.idx FROM tlog_leaves l JOIN ledger_events e ON e.id = l.ledger_row_id
                        WHERE e.event_id = :e"""),
                {"e": event_id},
            ).scalar_one()
        )


def _edit(engine: Engine, statement: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement))


def test_an_untouched_log_audits_clean(engine: Engine) -> None:
    report = _audit(engine)
    assert report.findings == []
    assert (report.leaves, report.checkpoint_size) == (10, 10)


def test_an_edited_amount_is_named(engine: Engine) -> None:
    index = _leaf_of(engine, "E-6")
    _edit(engine, "UPDATE ledger_events SET amount = amount + 1 WHERE event_id = 'E-6'")
    [finding] = _audit(engine).findings
    assert finding.index == index
    assert "fields no longer give its body hash" in finding.reason


def test_an_edited_body_hash_is_named(engine: Engine) -> None:
    index = _leaf_of(engine, "E-2")
    _edit(engine, "UPDATE ledger_events SET body_hash = decode(repeat('00', 32), 'hex') WHERE event_id = 'E-2'")
    [finding] = _audit(engine).findings
    assert finding.index == index


def test_a_deleted_row_is_named(engine: Engine) -> None:
    index = _leaf_of(engine, "E-3")
    _edit(engine, "DELETE FROM ledger_events WHERE event_id = 'E-3'")
    [finding] = _audit(engine).findings
    assert (finding.index, finding.reason) == (index, "the ledger row of this leaf was deleted")


def test_a_row_slipped_in_below_the_low_water_mark_is_named(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE tlog_state SET low_water = low_water + 1000"))
        [row_id] = insert_rows(conn, "BANK2", 0, 1)
    [finding] = _audit(engine).findings
    assert finding.ledger_row_id == row_id
    assert "not in the log" in finding.reason


def test_a_rewritten_log_table_is_named(engine: Engine) -> None:
    _edit(engine, "ALTER TABLE tlog_leaves DISABLE TRIGGER tlog_leaves_append_only")
    _edit(engine, "UPDATE tlog_leaves SET leaf_hash = decode(repeat('ab', 32), 'hex') WHERE idx = 5")
    reasons = [(f.index, f.reason) for f in _audit(engine).findings]
    assert (5, "the ledger row no longer gives the logged leaf") in reasons
    assert (None, "the logged leaf hashes do not give the newest checkpoint's root") in reasons
