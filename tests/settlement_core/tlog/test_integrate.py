"""The integrator step and the log's store against the real PostgreSQL: leaves in ledger
order with consecutive indexes, a signed checkpoint per step, proofs and consistency proofs
the bank's verifier accepts, one writer at a time, rows committed out of id order still
logged, an append-only log, and a changed ledger row refused at proof time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from settlement_client.tlog.checkpoint import open_checkpoint
from settlement_client.tlog.leaf import Leaf, received_at_text
from settlement_client.tlog.note import VerifierKey
from settlement_client.tlog.proofs import verify_consistency
from settlement_client.tlog.tlog_proof import verify_tlog_proof
from settlement_core.tlog.integrate import integrate_once
from settlement_core.tlog.keys import LogKeys
from settlement_core.tlog.signing import derive_salt
from settlement_core.tlog.store import LedgerRowChanged, LogReader
from settlement_core.tlog.tree import MemorySubtrees, Tree
from tests.settlement_core.tlog.ledger_rows import ORIGIN, SALT_KEY, insert_rows, new_database, new_keys
from tests.support.databases import TestDatabases

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(test_databases: TestDatabases) -> Iterator[Engine]:
    engine = create_engine(new_database(test_databases))
    yield engine
    engine.dispose()


def _step(engine: Engine, keys: LogKeys, batch: int = 1000, lag_s: float = 30.0) -> int:
    with engine.begin() as conn:
        result = integrate_once(conn, keys, SALT_KEY, batch=batch, lag_s=lag_s, now=NOW)
    assert not result.locked_out
    return result.appended


def _expected_leaves(engine: Engine) -> list[Leaf]:
    """Recomputed from the ledger, in the log's order."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("""SELECT e.bank_id, e.event_id, e.body_hash, e.ingested_at FROM tlog_leaves l
                    JOIN ledger_events e ON e.id = l.ledger_row_id ORDER BY l.idx""")
        ).all()
    return [
        Leaf(
            r.bank_id,
            r.event_id,
            bytes(r.body_hash).hex(),
            received_at_text(r.ingested_at),
            derive_salt(SALT_KEY, r.bank_id, r.event_id),
        )
        for r in rows
    ]


def test_steps_append_in_order_and_every_proof_verifies(engine: Engine) -> None:
    keys = new_keys()
    assert _step(engine, keys) == 0  # an empty log still gets a signed checkpoint of size 0
    with engine.begin() as conn:
        insert_rows(conn, "BANK1", 0, 7)
        insert_rows(conn, "BANK2", 0, 6)
    assert _step(engine, keys, batch=5) == 5
    assert _step(engine, keys, batch=5) == 5
    assert _step(engine, keys, batch=5) == 3
    assert _step(engine, keys, batch=5) == 0

    with engine.connect() as conn:
        idx, ids = zip(
            *conn.execute(text("SELECT idx, ledger_row_id FROM tlog_leaves ORDER BY idx")).all(), strict=True
        )
        assert list(idx) == list(range(13))
        assert list(ids) == sorted(ids)  # ledger order
        reader = LogReader(conn)
        sizes = [r[0] for r in conn.execute(text("SELECT size FROM tlog_checkpoints ORDER BY size"))]
        assert sizes == [0, 5, 10, 13]
        published = [VerifierKey.parse(k) for k in reader.published_keys()]
        assert published == [keys.active.verifier]
        latest = reader.latest_checkpoint()
        assert latest is not None
        checkpoint = open_checkpoint(latest.note, ORIGIN, published)
        leaves = _expected_leaves(engine)
        assert checkpoint.root_hash == Tree(MemorySubtrees([x.leaf_hash() for x in leaves]), 13).root()

        for leaf in leaves:
            proof = reader.proof(leaf.bank_id, leaf.event_id)
            assert proof is not None
            verified = verify_tlog_proof(proof.encode(), ORIGIN, published)
            assert verified.leaf == leaf
        assert reader.proof("BANK1", "E-99") is None

        for old in sizes:
            for new in sizes:
                if old <= new:
                    a, b = reader.checkpoint_at(old), reader.checkpoint_at(new)
                    assert a is not None
                    assert b is not None
                    verify_consistency(reader.consistency(old, new), a.root_hash, b.root_hash)


def test_one_writer_at_a_time(engine: Engine) -> None:
    keys = new_keys()
    with engine.begin() as conn:
        insert_rows(conn, "BANK1", 0, 3)
    with engine.begin() as holder:
        holder.execute(text("SELECT pg_advisory_xact_lock(x'746C6F67'::int)"))
        with engine.begin() as other:
            result = integrate_once(other, keys, SALT_KEY, batch=100, lag_s=30, now=NOW)
        assert result.locked_out
        assert result.appended == 0
    assert _step(engine, keys) == 3


def test_a_row_committed_after_a_later_id_is_still_logged(engine: Engine) -> None:
    """Ledger ids are taken at insert, not at commit: row 1 commits after row 2 was logged."""
    keys = new_keys()
    slow = engine.connect()
    slow_tx = slow.begin()
    [early] = insert_rows(slow, "BANK1", 0, 1, applied_at=NOW)
    with engine.begin() as conn:
        [late] = insert_rows(conn, "BANK1", 1, 1, applied_at=NOW)
    assert early < late
    assert _step(engine, keys) == 1
    slow_tx.commit()
    slow.close()
    assert _step(engine, keys) == 1
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT ledger_row_id FROM tlog_leaves ORDER BY idx"))] == [late, early]


def test_low_water_rises_only_past_settled_rows(engine: Engine) -> None:
    keys = new_keys()
    with engine.begin() as conn:
        old = insert_rows(conn, "BANK1", 0, 4)  # applied long ago
        insert_rows(conn, "BANK1", 4, 2, applied_at=NOW)  # within the lag
    _step(engine, keys)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT size, low_water FROM tlog_state")).one() == (6, old[-1])


def test_the_log_is_append_only(engine: Engine) -> None:
    keys = new_keys()
    with engine.begin() as conn:
        insert_rows(conn, "BANK1", 0, 2)
    _step(engine, keys)
    for statement in (
        "UPDATE tlog_leaves SET leaf_hash = leaf_hash WHERE idx = 0",
        "DELETE FROM tlog_leaves WHERE idx = 1",
        "DELETE FROM tlog_checkpoints",
        "TRUNCATE tlog_nodes",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


def test_a_changed_ledger_row_is_refused_at_proof_time(engine: Engine) -> None:
    keys = new_keys()
    with engine.begin() as conn:
        insert_rows(conn, "BANK1", 0, 3)
    _step(engine, keys)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_events SET body_hash = decode(repeat('00', 32), 'hex') WHERE event_id = 'E-1'")
        )
    with engine.connect() as conn:
        reader = LogReader(conn)
        assert reader.proof("BANK1", "E-0") is not None
        with pytest.raises(LedgerRowChanged, match="leaf 1"):
            reader.proof("BANK1", "E-1")
