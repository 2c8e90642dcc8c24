"""events carry a set of categories

Revision ID: 0002
Revises: 0001

ledger_events.category and ledger_effects.category become `categories varchar(32)[]`;
existing rows become one-category lists, so totals and rebuilds are unchanged.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TABLES = ("ledger_events", "ledger_effects")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("categories", postgresql.ARRAY(sa.String(length=32)), nullable=True))
        op.execute(f"UPDATE {table} SET categories = ARRAY[category]")  # noqa: S608 (constant names)
        op.alter_column(table, "categories", nullable=False)
        op.drop_column(table, "category")


def downgrade() -> None:
    # Only a ledger of one-category events can go back; anything else stops the downgrade.
    for table in _TABLES:
        op.add_column(table, sa.Column("category", sa.String(length=32), nullable=True))
        op.execute(f"UPDATE {table} SET category = categories[1] WHERE cardinality(categories) = 1")  # noqa: S608
        op.alter_column(table, "category", nullable=False)
        op.drop_column(table, "categories")
