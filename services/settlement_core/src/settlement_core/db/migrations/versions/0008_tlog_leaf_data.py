"""the log keeps each leaf's data, so `settlementctl log verify` can name a deleted row (issue 29)

Revision ID: 0008
Revises: 0007

tlog_leaves gains `leaf_data`: the leaf's RFC 8785 canonical JSON (bank_id, event_id,
body_sha256, received_at, salt; about 190 bytes). Until now the log held only the leaf hash,
so when a ledger row was deleted by hand the audit could say "leaf 17's row is gone" but
not whose event it was. With the data the log is self-describing: SHA-256(0x00 || leaf_data)
must equal leaf_hash, which the audit checks, so the column cannot lie without the log's own
tables disagreeing with their checkpoints.

Leaves logged before this revision are filled in from their ledger rows, with the salt the
log stored, but only where the rebuilt leaf hashes to the logged leaf hash (a row already
changed by hand gives no data: it stays NULL and the audit reports the leaf without it). The
append-only trigger is switched off for exactly that UPDATE, in this transaction.
"""

import sqlalchemy as sa
from alembic import op

from settlement_core.tlog.ledger_leaf import ledger_leaf

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_CHUNK = 5000


def upgrade() -> None:
    op.add_column("tlog_leaves", sa.Column("leaf_data", sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    conn.execute(sa.text("ALTER TABLE tlog_leaves DISABLE TRIGGER tlog_leaves_append_only"))
    start = 0
    while True:
        rows = conn.execute(
            sa.text("""
                SELECT l.idx, l.leaf_hash, l.salt, e.bank_id, e.event_id, e.body_hash, e.ingested_at
                FROM tlog_leaves l JOIN ledger_events e ON e.id = l.ledger_row_id
                WHERE l.idx >= :start ORDER BY l.idx LIMIT :chunk
            """),
            {"start": start, "chunk": _CHUNK},
        ).all()
        filled = []
        for r in rows:
            leaf = ledger_leaf(r.bank_id, r.event_id, bytes(r.body_hash), r.ingested_at, bytes(r.salt).hex())
            if leaf.leaf_hash() == bytes(r.leaf_hash):
                filled.append({"idx": r.idx, "data": leaf.canonical_json()})
        if filled:
            conn.execute(sa.text("UPDATE tlog_leaves SET leaf_data = :data WHERE idx = :idx"), filled)
        if len(rows) < _CHUNK:
            break
        start = rows[-1].idx + 1
    conn.execute(sa.text("ALTER TABLE tlog_leaves ENABLE TRIGGER tlog_leaves_append_only"))


def downgrade() -> None:
    op.drop_column("tlog_leaves", "leaf_data")
