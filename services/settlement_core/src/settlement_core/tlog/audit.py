"""Recompute the log from the ledger and name what no longer matches (the core of the
planned `settlementctl log verify`).

For every leaf, in index order: the ledger row it commits to must still exist; the row's
stored body hash must still be the hash of the row's own fields (an amount, date or
category edited by hand changes the fields but not the stored hash); and the leaf rebuilt
from the row must hash to the logged leaf hash. Then the logged leaf hashes must give the
newest checkpoint's root (the log's own tables edited), and no ledger row below the
integrator's low-water mark may be missing from the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, text

from settlement_client.tlog.leaf import Leaf, received_at_text
from settlement_core.categories import DIRECTION_BY_VALUE
from settlement_core.events import SettlementEvent
from settlement_core.tlog.compact import CompactRange
from settlement_core.tlog.signing import derive_salt
from settlement_core.tlog.store import LogReader

MAX_FINDINGS = 100  # enough to act on; a wholesale rewrite is clear from the first few

_LEAVES = text("""
    SELECT l.idx, l.ledger_row_id, l.leaf_hash, e.id AS row_id, e.bank_id, e.event_id, e.body_hash, e.categories,
           e.amount, e.currency, e.value_date, e.direction, e.counterparty_country, e.reverses, e.uetr, e.ingested_at
    FROM tlog_leaves l LEFT JOIN ledger_events e ON e.id = l.ledger_row_id
    WHERE l.idx >= :start ORDER BY l.idx LIMIT :chunk
""")
_MISSED = text("""
    SELECT e.id FROM ledger_events e, tlog_state s
    WHERE e.id <= s.low_water AND NOT EXISTS (SELECT 1 FROM tlog_leaves l WHERE l.ledger_row_id = e.id)
    ORDER BY e.id LIMIT :limit
""")


@dataclass(frozen=True, slots=True)
class AuditFinding:
    index: int | None  # the leaf, when the finding is about one
    ledger_row_id: int | None
    reason: str


@dataclass
class AuditReport:
    leaves: int = 0
    checkpoint_size: int = 0
    findings: list[AuditFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, finding: AuditFinding) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)


def _rows(conn: Connection, chunk: int) -> Iterator[Row[Any]]:
    start = 0
    while True:
        rows = conn.execute(_LEAVES, {"start": start, "chunk": chunk}).all()
        yield from rows
        if len(rows) < chunk:
            return
        start = rows[-1].idx + 1


def audit_log(conn: Connection, salt_key: bytes, chunk: int = 10_000) -> AuditReport:
    """Run inside one REPEATABLE READ transaction so the log and the ledger are one snapshot."""
    report = AuditReport()
    compact = CompactRange(0, [])
    for r in _rows(conn, chunk):
        idx, logged = r.idx, bytes(r.leaf_hash)
        if idx != compact.size:
            report.add(AuditFinding(idx, None, f"leaf index {idx} follows {compact.size - 1}: a gap in the log"))
        compact.append(logged)
        report.leaves += 1
        if r.row_id is None:
            report.add(AuditFinding(idx, r.ledger_row_id, "the ledger row of this leaf was deleted"))
            continue
        stored = bytes(r.body_hash).hex()
        event = SettlementEvent(
            bank_id=r.bank_id,
            event_id=r.event_id,
            categories=tuple(r.categories),
            amount=r.amount,
            currency=r.currency,
            value_date=r.value_date,
            direction=DIRECTION_BY_VALUE[r.direction],
            counterparty_country=r.counterparty_country,
            reverses=r.reverses,
            uetr=r.uetr,
        )
        if event.body_hash() != stored:
            report.add(AuditFinding(idx, r.row_id, "the ledger row's fields no longer give its body hash (edited)"))
            continue
        leaf = Leaf(
            r.bank_id,
            r.event_id,
            stored,
            received_at_text(r.ingested_at),
            derive_salt(salt_key, r.bank_id, r.event_id),
        )
        if leaf.leaf_hash() != logged:
            report.add(AuditFinding(idx, r.row_id, "the ledger row no longer gives the logged leaf"))

    latest = LogReader(conn).latest_checkpoint()
    if latest is not None:
        report.checkpoint_size = latest.size
        if latest.size != compact.size:
            report.add(
                AuditFinding(None, None, f"the newest checkpoint has {latest.size} leaves, the log {compact.size}")
            )
        elif latest.root_hash != compact.root():
            report.add(AuditFinding(None, None, "the logged leaf hashes do not give the newest checkpoint's root"))
    for (row_id,) in conn.execute(_MISSED, {"limit": MAX_FINDINGS}):
        report.add(AuditFinding(None, row_id, "a ledger row below the low-water mark is not in the log"))
    return report
