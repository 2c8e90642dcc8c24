"""control totals: banks' declared counts and sums per period, breaks and their trail (issue 25)

Revision ID: 0009
Revises: 0008

- control_total_declarations: one row per version of a bank's declaration for a period
  ("YYYY-MM"); a changed declaration is a new version, earlier ones are kept.
- control_total_lines: the declared count and sum per target and original currency.
- control_total_breaks: a difference between a declared line and the bank's counted events;
  at most one open break per (bank, period, target, currency) (a partial unique index).
- control_total_break_trail: what happened to each break (opened, changed, closed,
  acknowledged), by whom and why. Append-only: a trigger refuses UPDATE, DELETE and
  TRUNCATE, as the transparency log's tables do (0007), so the record of an operator's
  acknowledgement cannot be edited away by the application.

New tables only: nothing existing changes, so the upgrade is instant on any ledger size and
the downgrade drops exactly these (with the declarations and breaks they hold).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "control_total_declarations",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("bank_id", sa.String(length=32), sa.ForeignKey("banks.bank_id"), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lines_hash", sa.LargeBinary(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("version >= 1", name="ck_ctl_declaration_version"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bank_id", "period", "version", name="uq_ctl_declaration_version"),
    )
    op.create_table(
        "control_total_lines",
        sa.Column(
            "declaration_id",
            sa.BigInteger(),
            sa.ForeignKey("control_total_declarations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Numeric(30, 4), nullable=False),
        sa.CheckConstraint("count >= 0", name="ck_ctl_line_count"),
        sa.CheckConstraint("amount >= 0", name="ck_ctl_line_amount"),
        sa.PrimaryKeyConstraint("declaration_id", "target", "currency"),
    )
    op.create_table(
        "control_total_breaks",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("bank_id", sa.String(length=32), sa.ForeignKey("banks.bank_id"), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("declared_count", sa.BigInteger(), nullable=False),
        sa.Column("declared_amount", sa.Numeric(30, 4), nullable=False),
        sa.Column("counted_count", sa.BigInteger(), nullable=False),
        sa.Column("counted_amount", sa.Numeric(30, 4), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed', 'acknowledged')", name="ck_ctl_break_status"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_ctl_break_open",
        "control_total_breaks",
        ["bank_id", "period", "target", "currency"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index("ix_ctl_break_status", "control_total_breaks", ["status"])
    op.create_table(
        "control_total_break_trail",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("break_id", sa.BigInteger(), sa.ForeignKey("control_total_breaks.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("declaration_version", sa.Integer(), nullable=False),
        sa.Column("declared_count", sa.BigInteger(), nullable=False),
        sa.Column("declared_amount", sa.Numeric(30, 4), nullable=False),
        sa.Column("counted_count", sa.BigInteger(), nullable=False),
        sa.Column("counted_amount", sa.Numeric(30, 4), nullable=False),
        sa.Column("counted_through", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ctl_trail_break", "control_total_break_trail", ["break_id", "id"])
    op.execute("""
        CREATE FUNCTION control_total_trail_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
        END $$
    """)
    op.execute(
        "CREATE TRIGGER control_total_break_trail_append_only BEFORE UPDATE OR DELETE OR TRUNCATE"
        " ON control_total_break_trail FOR EACH STATEMENT EXECUTE FUNCTION control_total_trail_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER control_total_break_trail_append_only ON control_total_break_trail")
    op.execute("DROP FUNCTION control_total_trail_append_only()")
    op.drop_index("ix_ctl_trail_break", table_name="control_total_break_trail")
    op.drop_table("control_total_break_trail")
    op.drop_index("ix_ctl_break_status", table_name="control_total_breaks")
    op.drop_index("uq_ctl_break_open", table_name="control_total_breaks")
    op.drop_table("control_total_breaks")
    op.drop_table("control_total_lines")
    op.drop_table("control_total_declarations")
