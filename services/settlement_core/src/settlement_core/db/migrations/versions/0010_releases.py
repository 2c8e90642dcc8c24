"""releases: recorded rule sets, period releases and their frozen figures (issue 24)

Revision ID: 0010
Revises: 0009

- rule_sets: the counting rules (settlement_core.rules) in force from `recorded_at`, written
  by `settlementctl init` (the first) and `settlementctl rebuild` (a changed catalogue): a
  knowledge-time read (settlement_api.kit.known_at) counts with the set in force then.
- releases: one published release of a target period (preliminary or final), frozen at
  `known_at` (server time, after a knowledge barrier) with the rule set it counted with.
- release_figures: every target's figure in that release, exact (numeric), with its event
  count, its contributor count (disclosure) and the value dates it covers.

New tables only: nothing existing changes, so the upgrade is instant on any ledger size and
the downgrade drops exactly these (with the releases they hold).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_sets",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.CheckConstraint("octet_length(digest) = 32", name="ck_rule_sets_digest_sha256"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rule_sets_recorded_at", "rule_sets", ["recorded_at"])
    op.create_table(
        "releases",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("known_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rule_set_id", sa.BigInteger(), sa.ForeignKey("rule_sets.id"), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.CheckConstraint("kind IN ('preliminary', 'final')", name="ck_releases_kind"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_releases_period", "releases", ["period", "known_at"])
    op.create_table(
        "release_figures",
        sa.Column("release_id", sa.BigInteger(), sa.ForeignKey("releases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Numeric(30, 4), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("contributors", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("release_id", "target"),
    )


def downgrade() -> None:
    op.drop_table("release_figures")
    op.drop_index("ix_releases_period", table_name="releases")
    op.drop_table("releases")
    op.drop_index("ix_rule_sets_recorded_at", table_name="rule_sets")
    op.drop_table("rule_sets")
