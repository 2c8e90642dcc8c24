"""intake_rejections: events refused for their content at the edge, per bank and month (issue 25)

Revision ID: 0013
Revises: 0012

The quality score's `rejections` component counted dead letters only: a 422 at ingest left
no trace per bank. Ingest now adds its per-bank counts here (settlement_ingest.rejections).
A new table only: the upgrade is instant on any ledger size, the downgrade drops it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_rejections",
        sa.Column("bank_id", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("count >= 0", name="ck_intake_rejections_count"),
        sa.ForeignKeyConstraint(["bank_id"], ["banks.bank_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("bank_id", "period"),
    )


def downgrade() -> None:
    op.drop_table("intake_rejections")
