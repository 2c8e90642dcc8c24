"""narrower ledger: effects reference their events, digests as bytes, two indexes fewer

Revision ID: 0004
Revises: 0003

Growth per event was 561 bytes of PostgreSQL (bench growth stage); most of it was
ledger_effects repeating each event's bank, id, categories, date, currency, direction and
country, with a surrogate key and its index. Now:

- ledger_effects keeps per effect only its source (kafka_partition smallint, kafka_offset),
  processed_at, `event_row_id` (the ledger_events row whose attributes and amount count:
  always an original) and `reversal_row_id` (NULL for an addition; the applied reversal's
  row for a subtraction). No id column, no primary key.
- ledger_events.body_hash: bytea (the digest's 32 bytes) instead of 64 hex characters.
- ix_ledger_source dropped (nothing reads ledger_events by source; replays read the
  effects' ix_effects_source); ix_ledger_reverses is partial (WHERE reverses IS NOT NULL).

Upgrade maps each old effect to its rows by (bank_id, event_id) and refuses to continue
(the whole migration rolls back) unless every effect is reproduced exactly: same count, the
referenced original's bank, categories, value date, currency, direction and country, and
its amount in minor units with the effect's sign. Downgrade rebuilds the wide journal
from the references (amounts through the same minor-unit table).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from settlement_core.errors import LedgerNotReproduced
from settlement_core.money import MINOR_UNITS

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OLD = "ledger_effects_0003"
_NEW = "ledger_effects_0004"


def _units_sql() -> str:
    """A VALUES list (currency, minor units) of settlement_core.money's table."""
    return ", ".join(f"('{code}', {units})" for code, units in sorted(MINOR_UNITS.items()))


def upgrade() -> None:
    op.execute("ALTER TABLE ledger_events ALTER COLUMN body_hash TYPE bytea USING decode(body_hash, 'hex')")
    op.create_check_constraint("ck_ledger_body_hash_sha256", "ledger_events", "octet_length(body_hash) = 32")
    op.drop_index("ix_ledger_source", table_name="ledger_events")
    op.drop_index("ix_ledger_reverses", table_name="ledger_events")
    op.create_index(
        "ix_ledger_reverses", "ledger_events", ["bank_id", "reverses"], postgresql_where=sa.text("reverses IS NOT NULL")
    )

    op.rename_table("ledger_effects", _OLD)
    op.drop_index("ix_effects_source", table_name=_OLD)
    op.create_table(
        "ledger_effects",
        sa.Column("kafka_offset", sa.BigInteger(), nullable=False),
        sa.Column("event_row_id", sa.BigInteger(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kafka_partition", sa.SmallInteger(), nullable=False),
        sa.Column("reversal_row_id", sa.BigInteger(), nullable=True),
    )
    # The row an old effect belongs to is (bank_id, event_id): the original for an addition,
    # the reversal for a subtraction, whose original is (bank_id, reverses).
    op.execute(f"""
        INSERT INTO ledger_effects (kafka_offset, event_row_id, processed_at, kafka_partition, reversal_row_id)
        SELECT e.kafka_offset, o.id, e.processed_at, e.kafka_partition, CASE WHEN x.reverses IS NULL THEN NULL ELSE x.id END
        FROM {_OLD} e
        JOIN ledger_events x ON x.bank_id = e.bank_id AND x.event_id = e.event_id
        JOIN ledger_events o ON o.bank_id = x.bank_id AND o.event_id = coalesce(x.reverses, x.event_id)
        ORDER BY e.kafka_partition, e.kafka_offset, e.id
    """)  # noqa: S608 (constant names)
    bind = op.get_bind()
    old_count = bind.execute(sa.text(f"SELECT count(*) FROM {_OLD}")).scalar_one()  # noqa: S608
    new_count = bind.execute(sa.text("SELECT count(*) FROM ledger_effects")).scalar_one()
    # Every old effect must equal what its references give back (effect_from_row's rule).
    # The new rows are matched to the old ones by source and (event, reversal) identity.
    mismatched = bind.execute(
        sa.text(f"""
        SELECT count(*) FROM {_OLD} e
        LEFT JOIN ledger_events x ON x.bank_id = e.bank_id AND x.event_id = e.event_id
        LEFT JOIN ledger_events o ON o.bank_id = x.bank_id AND o.event_id = coalesce(x.reverses, x.event_id)
        LEFT JOIN (VALUES {_units_sql()}) AS m(currency, units) ON m.currency = o.currency
        WHERE o.id IS NULL OR m.units IS NULL
           OR o.reverses IS NOT NULL
           OR (o.categories, o.value_date, o.currency, o.direction, o.counterparty_country)
              IS DISTINCT FROM (e.categories, e.value_date, e.currency, e.direction, e.counterparty_country)
           OR e.amount_minor::numeric IS DISTINCT FROM
              (CASE WHEN x.reverses IS NULL THEN 1 ELSE -1 END) * o.amount * (10::numeric ^ m.units)
    """)  # noqa: S608
    ).scalar_one()
    if old_count != new_count or mismatched:
        raise LedgerNotReproduced(
            f"ledger_effects: {old_count} effects, {new_count} mapped to their events, {mismatched} "
            "not reproduced exactly by the rows they reference; nothing was changed"
        )
    op.drop_table(_OLD)
    op.create_index("ix_effects_source", "ledger_effects", ["kafka_partition", "kafka_offset"])


def downgrade() -> None:
    op.rename_table("ledger_effects", _NEW)
    op.drop_index("ix_effects_source", table_name=_NEW)
    op.create_table(
        "ledger_effects",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("kafka_partition", sa.Integer(), nullable=False),
        sa.Column("kafka_offset", sa.BigInteger(), nullable=False),
        sa.Column("bank_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("categories", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("counterparty_country", sa.String(length=2), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute(f"""
        INSERT INTO ledger_effects (kafka_partition, kafka_offset, bank_id, event_id, categories, value_date,
          currency, direction, counterparty_country, amount_minor, processed_at)
        SELECT e.kafka_partition, e.kafka_offset, o.bank_id, coalesce(r.event_id, o.event_id), o.categories,
          o.value_date, o.currency, o.direction, o.counterparty_country,
          ((CASE WHEN r.id IS NULL THEN 1 ELSE -1 END) * o.amount * (10::numeric ^ m.units))::bigint,
          e.processed_at
        FROM {_NEW} e
        JOIN ledger_events o ON o.id = e.event_row_id
        LEFT JOIN ledger_events r ON r.id = e.reversal_row_id
        JOIN (VALUES {_units_sql()}) AS m(currency, units) ON m.currency = o.currency
        ORDER BY e.kafka_partition, e.kafka_offset, e.reversal_row_id NULLS FIRST, e.event_row_id
    """)  # noqa: S608
    bind = op.get_bind()
    old_count = bind.execute(sa.text(f"SELECT count(*) FROM {_NEW}")).scalar_one()  # noqa: S608
    new_count = bind.execute(sa.text("SELECT count(*) FROM ledger_effects")).scalar_one()
    if old_count != new_count:
        raise LedgerNotReproduced(f"ledger_effects: {old_count} effects but {new_count} rebuilt; nothing was changed")
    op.drop_table(_NEW)
    op.create_index("ix_effects_source", "ledger_effects", ["kafka_partition", "kafka_offset"])

    op.drop_index("ix_ledger_reverses", table_name="ledger_events")
    op.create_index("ix_ledger_reverses", "ledger_events", ["bank_id", "reverses"])
    op.create_index("ix_ledger_source", "ledger_events", ["kafka_partition", "kafka_offset"])
    op.drop_constraint("ck_ledger_body_hash_sha256", "ledger_events", type_="check")
    op.execute("ALTER TABLE ledger_events ALTER COLUMN body_hash TYPE varchar(64) USING encode(body_hash, 'hex')")
