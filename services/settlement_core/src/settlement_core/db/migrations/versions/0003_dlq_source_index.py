"""dead-lettered records are found by their source offset

Revision ID: 0003
Revises: 0002

A record the aggregator dead-lettered is decided: when Kafka delivers it again (a replay, or
re-delivery after a lost commit) the aggregator looks its source up here instead of deciding
again, so one batch pays one index lookup.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_dlq_source", "dlq_events", ["kafka_partition", "kafka_offset"])


def downgrade() -> None:
    op.drop_index("ix_dlq_source", table_name="dlq_events")
