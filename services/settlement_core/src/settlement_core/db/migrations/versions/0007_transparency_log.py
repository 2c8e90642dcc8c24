"""transparency log over the ledger: leaves, subtree hashes, checkpoints, keys (issue 29)

Revision ID: 0007
Revises: 0006

Tables as settlement_core.tlog.schema describes. The log is append-only by construction
(the integrator only inserts, under an advisory lock, leaf indexes consecutive from
tlog_state.size) and by a trigger: UPDATE or DELETE on tlog_leaves, tlog_nodes,
tlog_checkpoints or tlog_keys raises, so a hand edit has to drop the trigger first.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_APPEND_ONLY = ("tlog_leaves", "tlog_nodes", "tlog_checkpoints", "tlog_keys")


def upgrade() -> None:
    op.create_table(
        "tlog_state",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("low_water", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_tlog_state_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO tlog_state (id, size, low_water) VALUES (1, 0, 0)")
    op.create_table(
        "tlog_leaves",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ledger_row_id", sa.BigInteger(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("octet_length(leaf_hash) = 32", name="ck_tlog_leaves_hash"),
        sa.CheckConstraint("octet_length(salt) = 16", name="ck_tlog_leaves_salt"),
        sa.PrimaryKeyConstraint("idx"),
        sa.UniqueConstraint("ledger_row_id", name="uq_tlog_leaves_ledger_row"),
    )
    op.create_table(
        "tlog_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx"),
    )
    op.create_table(
        "tlog_checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size"),
    )
    op.create_table(
        "tlog_keys",
        sa.Column("vkey", sa.Text(), nullable=False),
        sa.Column("first_used", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vkey"),
    )
    op.execute("""
        CREATE FUNCTION tlog_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
        END $$
    """)
    for table in _APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION tlog_append_only()"
        )


def downgrade() -> None:
    for table in _APPEND_ONLY:
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP FUNCTION tlog_append_only()")
    for table in ("tlog_keys", "tlog_checkpoints", "tlog_nodes", "tlog_leaves", "tlog_state"):
        op.drop_table(table)
