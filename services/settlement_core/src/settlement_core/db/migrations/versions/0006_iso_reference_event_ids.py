"""event ids up to 425 characters: ISO 20022 references percent-encoded

Revision ID: 0006
Revises: 0005

An event id may be an ISO 20022 reference (any Max35Text: 35 characters of up to 4 UTF-8
bytes) percent-encoded, 420 characters at most, plus the reversal suffix ":RVSL"
(settlement_core.events.MAX_EVENT_ID_LENGTH). ledger_events.event_id and .reverses and
dlq_events.event_id widen from varchar(64) to varchar(425): in PostgreSQL a wider varchar is
a catalogue change, no table rewrite. The way back refuses (and changes nothing) while any
stored id is longer than 64 characters, since it could not be kept.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COLUMNS = (("ledger_events", "event_id", False), ("ledger_events", "reverses", True), ("dlq_events", "event_id", True))


def upgrade() -> None:
    for table, column, nullable in _COLUMNS:
        op.alter_column(
            table, column, type_=sa.String(length=425), existing_type=sa.String(length=64), existing_nullable=nullable
        )


def downgrade() -> None:
    bind = op.get_bind()
    for table, column, _ in _COLUMNS:
        longest = bind.execute(sa.text(f"SELECT max(length({column})) FROM {table}")).scalar()  # noqa: S608
        if longest is not None and longest > 64:
            raise RuntimeError(
                f"{table}.{column} holds ids of {longest} characters; they do not fit varchar(64): nothing was changed"
            )
    for table, column, nullable in _COLUMNS:
        op.alter_column(
            table, column, type_=sa.String(length=64), existing_type=sa.String(length=425), existing_nullable=nullable
        )
