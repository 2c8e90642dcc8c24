"""Alembic migrations against the real PostgreSQL: a ledger written by an earlier schema is
carried over exactly, the schema matches the models, and the way back works.

0002: a ledger written by 0001 becomes one-category lists. 0004: effects become references
to their ledger_events rows and digests bytes, and every effect reads back as it was."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session

from settlement_aggregate.ledger import stream_effects
from settlement_core.buckets import Effect
from settlement_core.db.migrate import alembic_config
from settlement_core.db.models import Base, LedgerEvent
from settlement_core.errors import LedgerNotReproduced
from settlement_core.tlog import schema as tlog_schema
from tests.support.databases import TestDatabases
from tests.support.stack import stack_env

pytestmark = pytest.mark.integration

NOW = datetime(2020, 3, 1, tzinfo=UTC)
HASH = "ab" * 32


def test_existing_rows_become_one_category_lists(test_databases: TestDatabases) -> None:
    url = test_databases.create(stack_env()["DATABASE_URL"], f"t_mig_{uuid.uuid4().hex[:8]}")
    config = alembic_config(url)
    command.upgrade(config, "0001")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("""
                INSERT INTO ledger_events (bank_id, event_id, body_hash, category, amount, currency, value_date,
                  direction, counterparty_country, status, kafka_partition, kafka_offset, ingested_at, applied_at)
                VALUES ('b1', 'e1', :h, 'offshore', 12.5, 'USD', :d, 'inbound', 'HK', 'counted', 0, 7, :t, :t)
            """),
            {"d": date(2020, 3, 1), "t": NOW, "h": HASH},
        )
        conn.execute(
            text("""
                INSERT INTO ledger_effects (kafka_partition, kafka_offset, bank_id, event_id, category, value_date,
                  currency, direction, counterparty_country, amount_minor, processed_at)
                VALUES (0, 7, 'b1', 'e1', 'offshore', :d, 'USD', 'inbound', 'HK', 1250, :t)
            """),
            {"d": date(2020, 3, 1), "t": NOW},
        )
    command.upgrade(config, "0003")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT categories FROM ledger_events")).scalar_one() == ["offshore"]
        assert conn.execute(text("SELECT categories FROM ledger_effects")).scalar_one() == ["offshore"]
    command.upgrade(config, "head")
    with engine.connect() as conn:
        # The migrated schema is the models' schema (nothing left for autogenerate).
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        [effect] = stream_effects(conn, 0, -1, 7)
        assert (effect.categories, effect.amount_minor) == (("offshore",), 1250)
    command.downgrade(config, "0001")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT category FROM ledger_events")).scalar_one() == "offshore"
    engine.dispose()


# -- 0004: the compact journal ------------------------------------------------------------

LATER = datetime(2020, 3, 2, 8, 30, tzinfo=UTC)
CNY_BOTH = ["cross_border_ecommerce", "cross_border_rmb"]
# (bank_id, event_id, categories, amount, currency, direction, country, reverses, status, partition, offset)
EVENTS_0003 = [
    ("b1", "e1", ["offshore"], "12.50", "USD", "inbound", "HK", None, "counted", 0, 1),
    ("b1", "e2", CNY_BOTH, "100.00", "CNY", "outbound", "SG", None, "reversed", 0, 2),
    ("b1", "r2", CNY_BOTH, "100.00", "CNY", "inbound", "DE", "e2", "reversal_applied", 0, 3),
    ("b1", "r3", ["offshore"], "7", "JPY", "outbound", "JP", "e3", "reversal_applied", 1, 4),
    ("b1", "e3", ["offshore"], "7", "JPY", "inbound", "JP", None, "reversed", 1, 5),
    ("b1", "r9", ["offshore"], "1.000", "KWD", "inbound", "KW", "e9", "reversal_pending", 1, 6),
    ("b2", "e1", ["factor_market"], "0.125", "KWD", "inbound", "KW", None, "counted", 1, 7),
]
# (partition, offset, bank_id, event_id, categories, currency, direction, country, amount_minor, processed_at):
# an addition, a direct reversal at its own offset (with the original's attributes), a
# pending reversal applied at its original's offset (two effects at one offset), a 3-decimal currency.
EFFECTS_0003 = [
    (0, 1, "b1", "e1", ["offshore"], "USD", "inbound", "HK", 1250, NOW),
    (0, 2, "b1", "e2", CNY_BOTH, "CNY", "outbound", "SG", 10000, NOW),
    (0, 3, "b1", "r2", CNY_BOTH, "CNY", "outbound", "SG", -10000, LATER),
    (1, 5, "b1", "e3", ["offshore"], "JPY", "inbound", "JP", 7, LATER),
    (1, 5, "b1", "r3", ["offshore"], "JPY", "inbound", "JP", -7, LATER),
    (1, 7, "b2", "e1", ["factor_market"], "KWD", "inbound", "KW", 125, LATER),
]
DAY = date(2020, 3, 1)


def _ledger_at_0003(url: str) -> Engine:
    command.upgrade(alembic_config(url), "0003")
    engine = create_engine(url)
    with engine.begin() as conn:
        for n, (bank, event, cats, amount, cur, direction, country, reverses, status, p, o) in enumerate(EVENTS_0003):
            conn.execute(
                text("""
                    INSERT INTO ledger_events (bank_id, event_id, body_hash, categories, amount, currency, value_date,
                      direction, counterparty_country, reverses, status, kafka_partition, kafka_offset, ingested_at,
                      applied_at)
                    VALUES (:b, :e, :h, :c, :a, :cur, :d, :dir, :k, :r, :s, :p, :o, :t, :t)
                """),
                {
                    "b": bank,
                    "e": event,
                    "h": f"{n:02x}" * 32,
                    "c": cats,
                    "a": Decimal(amount),
                    "cur": cur,
                    "d": DAY,
                    "dir": direction,
                    "k": country,
                    "r": reverses,
                    "s": status,
                    "p": p,
                    "o": o,
                    "t": NOW,
                },
            )
        for p, o, bank, event, cats, cur, direction, country, minor, at in EFFECTS_0003:
            conn.execute(
                text("""
                    INSERT INTO ledger_effects (kafka_partition, kafka_offset, bank_id, event_id, categories,
                      value_date, currency, direction, counterparty_country, amount_minor, processed_at)
                    VALUES (:p, :o, :b, :e, :c, :d, :cur, :dir, :k, :m, :t)
                """),
                {
                    "p": p,
                    "o": o,
                    "b": bank,
                    "e": event,
                    "c": cats,
                    "d": DAY,
                    "cur": cur,
                    "dir": direction,
                    "k": country,
                    "m": minor,
                    "t": at,
                },
            )
    return engine


def _wide_effects(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("""
                SELECT kafka_partition, kafka_offset, bank_id, event_id, categories, currency, direction,
                  counterparty_country, amount_minor, processed_at
                FROM ledger_effects ORDER BY id
            """)
        ).all()
    return [tuple(r) for r in rows]


def _hashes(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [str(h) for h in conn.execute(text("SELECT body_hash FROM ledger_events ORDER BY id")).scalars()]


def test_0004_effects_read_back_exactly_and_the_way_back_restores_them(test_databases: TestDatabases) -> None:
    url = test_databases.create(stack_env()["DATABASE_URL"], f"t_mig4_{uuid.uuid4().hex[:8]}")
    config = alembic_config(url)
    engine = _ledger_at_0003(url)
    hashes = _hashes(engine)
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        replayed = [e for p in (0, 1) for e in stream_effects(conn, p, -1, 100)]
        assert conn.execute(text("SELECT count(*) FROM ledger_events WHERE octet_length(body_hash) = 32")).scalar() == 7
        assert conn.execute(text("SELECT count(*) FROM ledger_effects WHERE reversal_row_id IS NOT NULL")).scalar() == 2
    expected = [
        Effect(p, o, bank, event, tuple(cats), DAY, cur, direction, country, minor, at)
        for p, o, bank, event, cats, cur, direction, country, minor, at in EFFECTS_0003
    ]
    assert replayed == expected
    with Session(engine) as session:
        # The ORM reads the bytea digest back as the hex text the API shows.
        assert list(session.scalars(select(LedgerEvent.body_hash).order_by(LedgerEvent.id))) == hashes
    command.downgrade(config, "0003")
    assert _wide_effects(engine) == [
        (p, o, bank, event, cats, cur, direction, country, minor, at)
        for p, o, bank, event, cats, cur, direction, country, minor, at in EFFECTS_0003
    ]
    assert _hashes(engine) == hashes
    command.upgrade(config, "head")  # and forward again from the restored journal
    with engine.connect() as conn:
        assert [e for p in (0, 1) for e in stream_effects(conn, p, -1, 100)] == expected
    engine.dispose()


def test_0004_refuses_a_journal_its_references_would_not_reproduce(test_databases: TestDatabases) -> None:
    url = test_databases.create(stack_env()["DATABASE_URL"], f"t_mig4_{uuid.uuid4().hex[:8]}")
    engine = _ledger_at_0003(url)
    with engine.begin() as conn:
        # An effect whose amount is not its event's: a compact row could not say so.
        conn.execute(text("UPDATE ledger_effects SET amount_minor = 1251 WHERE event_id = 'e1' AND bank_id = 'b1'"))
    with pytest.raises(LedgerNotReproduced, match="1 not reproduced"):
        command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:  # the whole upgrade rolled back
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0003"
        assert len(_wide_effects(engine)) == len(EFFECTS_0003)
    engine.dispose()


# -- 0005: sealed HMAC secrets, public keys, audit log ---------------------------------------


def test_0005_seals_plaintext_secrets_and_downgrade_opens_them(
    monkeypatch: pytest.MonkeyPatch, test_databases: TestDatabases
) -> None:
    from settlement_core.secret_box import SecretBox, SecretsKeyMissing, hmac_context

    key = "migration-test-key-" + "0" * 32
    secret = "c5" * 32
    url = test_databases.create(stack_env()["DATABASE_URL"], f"t_mig_{uuid.uuid4().hex[:8]}")
    config = alembic_config(url)
    command.upgrade(config, "0004")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO banks (bank_id, name, key_hash, hmac_secret, active, rate_per_second, burst) "
                "VALUES ('SEALED', 'S', :h, :s, true, 1, 1), ('PLAIN', 'P', :h2, NULL, true, 1, 1)"
            ),
            {"h": "ab" * 32, "h2": "cd" * 32, "s": secret},
        )
    # Without the key the upgrade stops and changes nothing (the secret is not lost).
    monkeypatch.delenv("SECRETS_ENCRYPTION_KEY", raising=False)
    with pytest.raises(SecretsKeyMissing):
        command.upgrade(config, "0005")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT hmac_secret FROM banks WHERE bank_id = 'SEALED'")).scalar_one() == secret

    monkeypatch.setenv("SECRETS_ENCRYPTION_KEY", key)
    command.upgrade(config, "head")
    with engine.connect() as conn:
        columns = set(
            conn.execute(
                text("SELECT column_name FROM information_schema.columns WHERE table_name = 'banks'")
            ).scalars()
        )
        assert "hmac_secret" not in columns
        sealed, plain = conn.execute(text("SELECT hmac_secret_enc FROM banks ORDER BY bank_id DESC")).scalars().all()
        assert plain is None
        assert secret.encode() not in bytes(sealed)
        assert SecretBox(key).open(bytes(sealed), hmac_context("SEALED")) == secret
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    command.downgrade(config, "0004")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT hmac_secret FROM banks WHERE bank_id = 'SEALED'")).scalar_one() == secret
        assert conn.execute(text("SELECT to_regclass('audit_log')")).scalar_one() is None
    engine.dispose()


_LATER_TABLES = (
    "control_total_",
    "rule_sets",
    "releases",
    "release_figures",
    "knowledge_checkpoint",
    "intake_rejections",
)
# Indexes later migrations add to earlier tables: 0011's of corrections, 0012's BRIN index of
# ledger_effects.
_LATER_INDEXES = ("ix_ledger_corrects", "ix_effects_processed_at")


def _control_totals_object(difference: tuple[object, ...]) -> bool:
    """An addition autogenerate reports for a table of migration 0009 (control totals), 0010
    (rule sets and releases), 0012 (knowledge checkpoints) or 0013 (refusals at the edge), the
    corrections' columns (0011), or an index a later migration adds to an earlier table."""
    if difference[0] == "add_column" and difference[2] == "ledger_events":
        return str(getattr(difference[3], "name", "")) in ("corrects", "reason_code", "reason_text")
    kind, element = difference[0], difference[1]
    if kind == "add_index" and getattr(element, "name", "") in _LATER_INDEXES:
        return True
    table = element if kind == "add_table" else getattr(element, "table", None) if kind == "add_index" else None
    return str(getattr(table, "name", "")).startswith(_LATER_TABLES)


def test_0006_widens_event_ids_for_iso_references_and_the_way_back_refuses_what_would_not_fit(
    test_databases: TestDatabases,
) -> None:
    url = test_databases.create(stack_env()["DATABASE_URL"], f"t_mig6_{uuid.uuid4().hex[:8]}")
    config = alembic_config(url)
    command.upgrade(config, "0004")
    engine = create_engine(url)
    long_id = "%E4%B8%AD" * 35 + ":RVSL"  # 35 CJK characters percent-encoded, reversal suffix: 320

    def insert(event_id: str) -> None:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO ledger_events (bank_id, event_id, body_hash, categories, amount, currency,"
                    " value_date, direction, counterparty_country, reverses, status, kafka_partition, kafka_offset,"
                    " ingested_at, applied_at)"
                    " VALUES ('b', :id, decode(:h, 'hex'), ARRAY['offshore'], 1, 'USD', '2020-01-01', 'inbound',"
                    " 'ZZ', :id, 'applied', 0, 0, now(), now())"
                ),
                {"id": event_id, "h": HASH},
            )

    with pytest.raises(Exception, match="value too long"):
        insert(long_id)  # at 0004 such an id cannot be stored
    command.upgrade(config, "0006")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # At 0006 the schema is the models' but for the log's tables, which 0007 adds, the
    # control totals' tables and indexes, which 0009 adds, and the releases' (0010).
    diff = [d for d in diff if not _control_totals_object(d)]
    assert [d for d in diff if d[0] != "add_table" or not d[1].name.startswith("tlog_")] == []
    log_tables = [tlog_schema.TLOG_STATE, tlog_schema.TLOG_LEAVES, tlog_schema.TLOG_NODES]
    log_tables += [tlog_schema.TLOG_CHECKPOINTS, tlog_schema.TLOG_KEYS]
    assert sorted(d[1].name for d in diff) == sorted(t.name for t in log_tables)
    insert(long_id)
    with pytest.raises(RuntimeError, match="nothing was changed"):
        command.downgrade(config, "0004")
    with engine.begin() as conn:
        width = conn.execute(
            text(
                "SELECT character_maximum_length FROM information_schema.columns WHERE table_name = 'ledger_events'"
                " AND column_name = 'event_id'"
            )
        ).scalar()
        assert width == 425
        conn.execute(text("DELETE FROM ledger_events"))
    command.downgrade(config, "0004")
    with pytest.raises(Exception, match="value too long"):
        insert(long_id)
    insert("short-id")
    engine.dispose()
