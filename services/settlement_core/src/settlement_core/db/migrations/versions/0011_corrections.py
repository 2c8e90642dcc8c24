"""corrections: the event a ledger row corrects and the reason it gives (issue 25 step 4)

Revision ID: 0011
Revises: 0010

- ledger_events.corrects: the event_id (same bank) a correction replaces; NULL for every
  other row. ix_ledger_corrects finds the correction of an original (GET /v1/events/{id}
  shows the chain both ways) and, like ix_ledger_reverses, leaves out the rows without one.
- ledger_events.reason_code / reason_text: why (seeds/correction_reasons.yaml); a
  correction always has a code, a reversal may.

Nullable columns without a default: adding them rewrites nothing (a catalogue change only),
so the upgrade is instant on any ledger size; the partial index is empty until the first
correction. The downgrade drops the three columns, and with them every correction's reason
(refused while a correction is stored: its row would read as an original again).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

MAX_EVENT_ID_LENGTH = 425  # settlement_core.identifiers, frozen here as of this revision


def upgrade() -> None:
    op.add_column("ledger_events", sa.Column("corrects", sa.String(MAX_EVENT_ID_LENGTH), nullable=True))
    op.add_column("ledger_events", sa.Column("reason_code", sa.String(32), nullable=True))
    op.add_column("ledger_events", sa.Column("reason_text", sa.String(500), nullable=True))
    op.create_index(
        "ix_ledger_corrects",
        "ledger_events",
        ["bank_id", "corrects"],
        postgresql_where=sa.text("corrects IS NOT NULL"),
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM ledger_events WHERE corrects IS NOT NULL LIMIT 1")).first():
        raise RuntimeError("the ledger holds corrections: downgrading would count them as originals")
    op.drop_index("ix_ledger_corrects", table_name="ledger_events")
    op.drop_column("ledger_events", "reason_text")
    op.drop_column("ledger_events", "reason_code")
    op.drop_column("ledger_events", "corrects")
