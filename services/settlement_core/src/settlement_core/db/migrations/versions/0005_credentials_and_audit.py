"""credentials with a lifecycle: sealed HMAC secrets with an overlap, Ed25519 public keys, audit log

Revision ID: 0005
Revises: 0004

Audit finding M5: HMAC secrets were stored in plain text in `banks.hmac_secret` (and copied
into the Redis principal cache). Now:

- banks.hmac_secret_enc: the secret sealed with AES-256-GCM under SECRETS_ENCRYPTION_KEY
  (settlement_core.secret_box); hmac_previous_enc / hmac_previous_until keep the previous
  secret valid during a rotation's overlap window. banks.hmac_secret is dropped.
- bank_public_keys: Ed25519 public keys for RFC 9421 signatures (public material only).
- operators.key_rotated_at, as banks have.
- audit_log: administrative actions and operator reads of per-bank data.

Upgrade seals every existing plaintext secret and needs SECRETS_ENCRYPTION_KEY in the
environment when there is one to seal (it stops, changing nothing, if the key is missing).
Downgrade opens them back into the plaintext column (needs the key likewise).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from settlement_core.secret_box import SecretBox, hmac_context

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("banks", sa.Column("hmac_secret_enc", sa.LargeBinary(), nullable=True))
    op.add_column("banks", sa.Column("hmac_previous_enc", sa.LargeBinary(), nullable=True))
    op.add_column("banks", sa.Column("hmac_previous_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("operators", sa.Column("key_rotated_at", sa.DateTime(timezone=True), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT bank_id, hmac_secret FROM banks WHERE hmac_secret IS NOT NULL")).all()
    if rows:
        box = SecretBox.from_env()  # raises SecretsKeyMissing: the transaction rolls back
        for bank_id, secret in rows:
            conn.execute(
                sa.text("UPDATE banks SET hmac_secret_enc = :enc WHERE bank_id = :b"),
                {"enc": box.seal(secret, hmac_context(bank_id)), "b": bank_id},
            )
    op.drop_column("banks", "hmac_secret")

    op.create_table(
        "bank_public_keys",
        sa.Column(
            "bank_id", sa.String(length=32), sa.ForeignKey("banks.bank_id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("key_id", sa.String(length=64), primary_key=True),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=256), nullable=False),
        sa.Column("detail", postgresql.JSONB(), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("bank_public_keys")
    op.add_column("banks", sa.Column("hmac_secret", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT bank_id, hmac_secret_enc FROM banks WHERE hmac_secret_enc IS NOT NULL")).all()
    if rows:
        box = SecretBox.from_env()
        for bank_id, sealed in rows:
            conn.execute(
                sa.text("UPDATE banks SET hmac_secret = :s WHERE bank_id = :b"),
                {"s": box.open(sealed, hmac_context(bank_id)), "b": bank_id},
            )
    op.drop_column("operators", "key_rotated_at")
    op.drop_column("banks", "hmac_previous_until")
    op.drop_column("banks", "hmac_previous_enc")
    op.drop_column("banks", "hmac_secret_enc")
