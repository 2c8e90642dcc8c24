"""The log's tables (migrations 0007, 0008). Core tables on the models' metadata: rows are written
by the integrator in bulk and read by index, never as objects.

- tlog_state: one row, the log's size and the ledger id below which every committed row is
  in the log (`low_water`, so the integrator's search for new rows starts there).
- tlog_leaves: leaf `idx` (0, 1, 2, ... with no gap) -> the ledger_events row it commits to,
  its leaf hash, salt and (migration 0008) leaf data, the leaf's canonical JSON, so the
  log says whose event a leaf is even when the ledger row is gone. About 8 + 8 + 33 + 17 +
  190 bytes of data per event.
- tlog_nodes: every perfect subtree of level >= 1 (about one per leaf), so any root or proof
  is O(log n) index reads.
- tlog_checkpoints: every signed checkpoint, by tree size.
- tlog_keys: every public key that ever signed (verifier key lines), for GET /v1/log/keys.

A trigger makes leaves, nodes, checkpoints and keys append-only: UPDATE and DELETE fail.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    LargeBinary,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
)

from settlement_core.db.models import Base

TLOG_STATE = Table(
    "tlog_state",
    Base.metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("low_water", BigInteger, nullable=False),
    CheckConstraint("id = 1", name="ck_tlog_state_one_row"),
)

TLOG_LEAVES = Table(
    "tlog_leaves",
    Base.metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("ledger_row_id", BigInteger, nullable=False),
    Column("leaf_hash", LargeBinary, nullable=False),
    Column("salt", LargeBinary, nullable=False),
    Column("leaf_data", LargeBinary, nullable=True),  # migration 0008; NULL only for leaves it could not fill
    UniqueConstraint("ledger_row_id", name="uq_tlog_leaves_ledger_row"),
    CheckConstraint("octet_length(leaf_hash) = 32", name="ck_tlog_leaves_hash"),
    CheckConstraint("octet_length(salt) = 16", name="ck_tlog_leaves_salt"),
)

TLOG_NODES = Table(
    "tlog_nodes",
    Base.metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)

TLOG_CHECKPOINTS = Table(
    "tlog_checkpoints",
    Base.metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
)

TLOG_KEYS = Table(
    "tlog_keys",
    Base.metadata,
    Column("vkey", Text, primary_key=True),
    Column("first_used", DateTime(timezone=True), nullable=False),
)
