"""The audit log (`audit_log`, migration 0005): administrative actions taken with
`settlementctl` and operator reads of per-bank data through the API, readable by operators
(`GET /v1/audit`, `settlementctl audit`).

An entry names who (`actor`: "cli:<OS user>" or "operator:<name>"), what (`action`, one of
ACTIONS), on what (`subject`: a bank id, operator name or request path) and details that
are never a secret or a key (key ids, overlap lengths, query parameters).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from settlement_core.db.models import AuditEntry

ACTIONS = frozenset(
    {
        "bank.add",
        "bank.key.rotate",
        "bank.key.revoke",
        "bank.hmac.rotate",
        "bank.public_key.add",
        "bank.public_key.remove",
        "operator.add",
        "operator.key.rotate",
        "operator.key.revoke",
        "secrets.reencrypt",
        "operator.read",
        # An operator accepts a control-total break with a note (settlement_api.control_totals).
        "control_totals.acknowledge",
        # An operator freezes a release of a period's figures (settlement_api.releases).
        "release.create",
    }
)
# Names in a detail that must never be written, whatever a caller passes by mistake.
_FORBIDDEN_DETAIL = ("secret", "key_value", "api_key", "password", "private")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: Mapping[str, object]


def cli_actor() -> str:
    """Who runs settlementctl: SETTLEMENTCTL_ACTOR (e.g. a ticket or SSO name set by the
    wrapper that runs it) or the OS user."""
    return "cli:" + (os.environ.get("SETTLEMENTCTL_ACTOR") or getpass.getuser())


# PostgreSQL text and jsonb cannot hold U+0000: a query parameter with a NUL (a fuzzer's, an
# attacker's) made the operator read's audit write fail, so the read answered 503. It is kept
# visible as the six characters `\u0000` instead.
_NUL, _NUL_SHOWN = "\x00", "\\u0000"


def _storable(value: object) -> object:
    if isinstance(value, str):
        return value.replace(_NUL, _NUL_SHOWN)
    if isinstance(value, Mapping):
        return {str(_storable(k)): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


def record(session: Session, actor: str, action: str, subject: str, detail: Mapping[str, object] | None = None) -> None:
    """Adds an entry to the session's transaction: it commits with the change it describes."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    clean = dict(detail or {})
    for name in clean:
        if any(word in name.lower() for word in _FORBIDDEN_DETAIL):
            raise ValueError(f"audit detail {name!r} looks like a secret; it is never logged")
    session.add(
        AuditEntry(
            actor=str(_storable(actor))[:128],
            action=action,
            subject=str(_storable(subject))[:256],
            detail=_storable(clean),
        )
    )


def page(session: Session, *, before_id: int | None, limit: int) -> list[AuditRecord]:
    """Newest first; `before_id` continues from the last id of the previous page."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return [
        AuditRecord(row.id, row.at, row.actor, row.action, row.subject, dict(row.detail))
        for row in session.execute(query).scalars()
    ]
