"""knowledge checkpoints: pre-summed ledger groups for knowledge-time reads (issue 24)

Revision ID: 0012
Revises: 0011

- knowledge_checkpoints: one checkpoint at knowledge time `at` (a horizon after which no
  batch can commit an earlier processed_at: settlement_api.kit.checkpoints), for the home
  country whose rule set decided how counterparty countries were grouped.
- knowledge_checkpoint_groups: the ledger's effects with processed_at <= at, summed per the
  groups a knowledge-time read sums (settlement_api.kit.known_at): exact numeric sums in the
  event currency, unsigned (`added` says the sign), the number of non-zero effects, and
  the earliest processed_at among them (when the group's bank and category pairs were first
  known: the `seen` sets of a read at an earlier time).
- ix_effects_processed_at: a BRIN index on ledger_effects.processed_at, so a read sums only
  the effects committed after its checkpoint (the tail) without scanning the whole journal.
  Effects are appended in commit order, so processed_at follows the heap; BRIN costs the
  aggregator's COPY next to nothing (one summary per 128 pages, none per row) where a
  B-tree would add an index entry per effect.

The tables are new and the index is BRIN: the upgrade takes seconds at 10^7 effects; the
downgrade drops exactly these.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_checkpoints",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("home_country", sa.String(length=2), nullable=False),
        sa.Column("groups", sa.BigInteger(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("home_country", "at", name="uq_knowledge_checkpoints_home_at"),
    )
    op.create_table(
        "knowledge_checkpoint_groups",
        sa.Column(
            "checkpoint_id",
            sa.BigInteger(),
            sa.ForeignKey("knowledge_checkpoints.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("bank_id", sa.String(length=32), nullable=False),
        sa.Column("categories", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("added", sa.Boolean(), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_checkpoint_groups_checkpoint", "knowledge_checkpoint_groups", ["checkpoint_id"])
    op.create_index("ix_effects_processed_at", "ledger_effects", ["processed_at"], postgresql_using="brin")


def downgrade() -> None:
    op.drop_index("ix_effects_processed_at", table_name="ledger_effects")
    op.drop_index("ix_checkpoint_groups_checkpoint", table_name="knowledge_checkpoint_groups")
    op.drop_table("knowledge_checkpoint_groups")
    op.drop_table("knowledge_checkpoints")
