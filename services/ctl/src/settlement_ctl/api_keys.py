"""Rotating and revoking an API key, the same for a bank and an operator.

A new key is printed once and stored as its SHA-256. The old hash is marked revoked in Redis
after the commit (`forget`), so ingest and the API answer 401 to it from the next request on
instead of after their 30 s principal cache. Each change writes an audit_log entry
(`bank.key.rotate`, `operator.key.revoke`, ...).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select

from settlement_core import audit
from settlement_core.auth import generate_key, hash_key
from settlement_core.db.models import Bank, Operator
from settlement_ctl.context import fail, forget, settings, transaction

Holder = Literal["bank", "operator"]


def _replace(holder: Holder, ident: str, new_key: str | None) -> bool:
    """Replace the key hash of `holder` `ident` (None: revoke); False when there is none."""
    config = settings()
    statement = (
        select(Bank).where(Bank.bank_id == ident)
        if holder == "bank"
        else select(Operator).where(Operator.name == ident)
    )
    with transaction(config) as session:
        row = session.execute(statement.with_for_update()).scalar_one_or_none()
        if row is None:
            return False
        old = row.key_hash
        row.key_hash = hash_key(new_key) if new_key is not None else None
        row.active = new_key is not None
        row.key_rotated_at = datetime.now(UTC)
        audit.record(session, audit.cli_actor(), f"{holder}.key.{'rotate' if new_key else 'revoke'}", ident)
    forget(config, old)
    return True


def rotate(holder: Holder, ident: str) -> int:
    key = generate_key()
    if not _replace(holder, ident, key):
        return fail(f"no {holder} {ident!r}")
    print(f"key of {holder} {ident} rotated; the old key no longer works. Store this now; it is not shown again.")
    print(f"api_key: {key}")
    return 0


def revoke(holder: Holder, ident: str, reissue_command: str) -> int:
    if not _replace(holder, ident, None):
        return fail(f"no {holder} {ident!r}")
    print(f"key of {holder} {ident} revoked; '{reissue_command}' issues a new one")
    return 0
