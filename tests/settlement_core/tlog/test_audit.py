"""The audit recomputes the log from the ledger and names what was changed by hand: an
amount edited (stored body hash left alone), a body hash edited, a row deleted, a row
inserted below the low-water mark, and the log's own table rewritten with its trigger off."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, create_engine, text

from settlement_client.tlog.note import VerifierKey
from settlement_core.categories import Direction
from settlement_core.events import SettlementEvent
from settlement_core.tlog.audit import AuditReport, Difference, FindingKind, audit_log, row_body_hash
from settlement_core.tlog.integrate import integrate_once
from settlement_core.tlog.keys import LogKeys, SigningKey
from tests.settlement_core.tlog.ledger_rows import ORIGIN, SALT_KEY, insert_rows, new_database, new_keys
from tests.support.databases import TestDatabases

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def keys() -> LogKeys:
    return new_keys()


@pytest.fixture
def engine(keys: LogKeys, test_databases: TestDatabases) -> Iterator[Engine]:
    engine = create_engine(new_database(test_databases))
    with engine.begin() as conn:
        insert_rows(conn, "BANK1", 0, 10)
    with engine.begin() as conn:
        integrate_once(conn, keys, SALT_KEY, batch=4, lag_s=30, now=NOW)
    with engine.begin() as conn:
        integrate_once(conn, keys, SALT_KEY, batch=100, lag_s=30, now=NOW)
    yield engine
    engine.dispose()


def _audit(engine: Engine, chunk: int = 3, trusted: Sequence[VerifierKey] | None = None) -> AuditReport:
    """Audited with the log's own published key unless `trusted` says otherwise."""
    if trusted is None:
        with engine.connect() as conn:
            trusted = [VerifierKey.parse(k) for k in conn.execute(text("SELECT vkey FROM tlog_keys")).scalars()]
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        return audit_log(conn, SALT_KEY, ORIGIN, trusted, chunk=chunk)


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
    # the tree recomputed from the ledger is the signed one
    assert (report.ledger_size, report.ledger_root) == (10, report.checkpoint_root) == (10, report.log_root)
    assert report.ok


def test_an_edited_amount_is_named(engine: Engine) -> None:
    index = _leaf_of(engine, "E-6")
    _edit(engine, "UPDATE ledger_events SET amount = amount + 1 WHERE event_id = 'E-6'")
    report = _audit(engine)
    [finding] = report.findings
    assert finding.index == index
    assert "fields no longer give its body hash" in finding.reason
    assert (finding.kind, finding.bank_id, finding.event_id) == (FindingKind.CHANGED, "BANK1", "E-6")
    # what differs: the stored body hash against the fields', and the leaf's body_sha256
    assert [d.member for d in finding.differs] == ["ledger_events.body_hash", "body_sha256"]
    assert finding.differs[0].logged == finding.differs[1].logged != finding.differs[1].ledger
    assert report.ledger_size == report.checkpoint_size
    assert report.ledger_root != report.checkpoint_root
    assert not report.ok


def test_an_edited_body_hash_is_named(engine: Engine) -> None:
    index = _leaf_of(engine, "E-2")
    _edit(engine, "UPDATE ledger_events SET body_hash = decode(repeat('00', 32), 'hex') WHERE event_id = 'E-2'")
    [finding] = _audit(engine).findings
    assert finding.index == index


def test_a_deleted_row_is_named(engine: Engine) -> None:
    index = _leaf_of(engine, "E-3")
    _edit(engine, "DELETE FROM ledger_events WHERE event_id = 'E-3'")
    report = _audit(engine)
    [finding] = report.findings
    assert (finding.index, finding.reason) == (index, "the ledger row of this leaf was deleted")
    # who it was comes from the log's own copy of the leaf (migration 0008)
    assert (finding.kind, finding.bank_id, finding.event_id) == (FindingKind.DELETED, "BANK1", "E-3")
    assert (report.ledger_size, report.checkpoint_size) == (9, 10)


def test_a_row_slipped_in_below_the_low_water_mark_is_named(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE tlog_state SET low_water = low_water + 1000"))
        [row_id] = insert_rows(conn, "BANK2", 0, 1)
    report = _audit(engine)
    [finding] = report.findings
    assert finding.ledger_row_id == row_id
    assert "not in the log" in finding.reason
    assert (finding.kind, finding.bank_id, finding.event_id) == (FindingKind.EXTRA, "BANK2", "E-0")
    assert (report.ledger_size, report.checkpoint_size) == (11, 10)


def test_a_rewritten_log_table_is_named(engine: Engine) -> None:
    _edit(engine, "ALTER TABLE tlog_leaves DISABLE TRIGGER tlog_leaves_append_only")
    _edit(engine, "UPDATE tlog_leaves SET leaf_hash = decode(repeat('ab', 32), 'hex') WHERE idx = 5")
    reasons = [(f.index, f.reason) for f in _audit(engine).findings]
    assert (5, "the ledger row no longer gives the logged leaf") in reasons
    assert (None, "the logged leaf hashes do not give the newest checkpoint's root") in reasons


def test_a_consistently_rewritten_row_names_what_differs(engine: Engine) -> None:
    """Amount and stored body hash changed together (a careful forger): the row is
    self-consistent, but its leaf is not the logged one, and the difference is named."""
    index = _leaf_of(engine, "E-4")
    _edit(engine, "UPDATE ledger_events SET amount = 5000.25 WHERE event_id = 'E-4'")
    with engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM ledger_events WHERE event_id = 'E-4'")).one()
        fields_hash = row_body_hash(row)
        conn.execute(
            text("UPDATE ledger_events SET body_hash = :h WHERE event_id = 'E-4'"), {"h": bytes.fromhex(fields_hash)}
        )
    [finding] = _audit(engine).findings
    assert (finding.kind, finding.index, finding.event_id) == (FindingKind.CHANGED, index, "E-4")
    assert finding.reason == "the ledger row no longer gives the logged leaf"
    [difference] = finding.differs
    assert difference == Difference("body_sha256", difference.logged, fields_hash)
    assert difference.logged != fields_hash


def test_the_first_finding_is_the_first_leaf_that_no_longer_matches(engine: Engine) -> None:
    later, earlier = _leaf_of(engine, "E-8"), _leaf_of(engine, "E-1")
    _edit(engine, "DELETE FROM ledger_events WHERE event_id = 'E-8'")
    _edit(engine, "UPDATE ledger_events SET amount = amount * 2 WHERE event_id = 'E-1'")
    findings = _audit(engine).findings
    assert [(f.index, f.kind) for f in findings] == [(earlier, FindingKind.CHANGED), (later, FindingKind.DELETED)]
    assert earlier < later


def test_a_checkpoint_signed_by_another_key_fails(engine: Engine, keys: LogKeys) -> None:
    stranger = SigningKey.generate(ORIGIN)
    report = _audit(engine, trusted=[stranger.verifier])
    [finding] = report.findings
    assert finding.kind == FindingKind.CHECKPOINT
    assert finding.reason.startswith("the newest checkpoint does not verify")
    assert _audit(engine, trusted=[keys.active.verifier]).ok


def test_a_checkpoint_whose_stored_root_is_not_the_signed_one_fails(engine: Engine) -> None:
    _edit(engine, "ALTER TABLE tlog_checkpoints DISABLE TRIGGER tlog_checkpoints_append_only")
    _edit(engine, "UPDATE tlog_checkpoints SET root_hash = decode(repeat('cd', 32), 'hex') WHERE size = 10")
    reasons = [(f.kind, f.reason) for f in _audit(engine).findings]
    assert (FindingKind.CHECKPOINT, "the newest checkpoint's signed size or root is not the stored one") in reasons


def test_leaf_data_that_is_not_the_logged_leaf_is_named(engine: Engine) -> None:
    _edit(engine, "ALTER TABLE tlog_leaves DISABLE TRIGGER tlog_leaves_append_only")
    _edit(engine, "UPDATE tlog_leaves SET leaf_data = convert_to('{}', 'UTF8') WHERE idx = 2")
    [finding] = _audit(engine).findings
    assert (finding.kind, finding.index) == (FindingKind.LOG, 2)
    assert "leaf data does not hash to its leaf hash" in finding.reason


def test_a_correction_is_a_leaf_and_its_reason_is_covered(engine: Engine, keys: LogKeys) -> None:
    # A correction (issue 25 step 4) is a ledger row like any other: the integrator logs it,
    # the audit recomputes its body hash with corrects and the reason, so editing the reason
    # by hand is named like an edited amount.
    correction = SettlementEvent(
        bank_id="BANK1",
        event_id="E-1-C",
        categories=("offshore",),
        amount=Decimal("2.50"),
        currency="USD",
        value_date=datetime(2020, 3, 1).date(),
        direction=Direction.INBOUND,
        counterparty_country="HK",
        corrects="E-1",
        reason_code="OTHER",
        reason_text="booked on the wrong account",
    )
    applied = datetime(2026, 1, 1, tzinfo=UTC)
    _edit(engine, "UPDATE ledger_events SET status = 'reversed' WHERE event_id = 'E-1'")
    with engine.begin() as conn:
        conn.execute(
            text("""
                INSERT INTO ledger_events (bank_id, event_id, body_hash, categories, amount, currency, value_date,
                  direction, counterparty_country, status, kafka_partition, kafka_offset, ingested_at, applied_at,
                  corrects, reason_code, reason_text)
                VALUES ('BANK1', 'E-1-C', :h, ARRAY['offshore'], 2.50, 'USD', '2020-03-01', 'inbound', 'HK',
                  'counted', 0, 99, :at, :at, 'E-1', 'OTHER', 'booked on the wrong account')
            """),
            {"h": bytes.fromhex(correction.body_hash()), "at": applied},
        )
    with engine.begin() as conn:
        integrate_once(conn, keys, SALT_KEY, batch=100, lag_s=30, now=NOW)
    clean = _audit(engine)
    assert (clean.findings, clean.leaves) == ([], 11)
    index = _leaf_of(engine, "E-1-C")
    _edit(engine, "UPDATE ledger_events SET reason_text = 'something else' WHERE event_id = 'E-1-C'")
    [finding] = _audit(engine).findings
    assert (finding.index, finding.event_id, finding.kind) == (index, "E-1-C", FindingKind.CHANGED)
