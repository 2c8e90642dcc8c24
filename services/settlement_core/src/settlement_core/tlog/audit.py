"""Recompute the log from the ledger and name what no longer matches (the core of
`settlementctl log verify`).

For every leaf, in index order: the ledger row it commits to must still exist; the row's
stored body hash must still be the hash of the row's own fields (an amount, date or
category edited by hand changes the fields but not the stored hash); the leaf rebuilt from
the row (settlement_core.tlog.ledger_leaf, as the integrator builds it, with the body hash of
the row's fields and the derived salt) must hash to the logged leaf hash; and the leaf data
the log keeps (migration 0008) must hash to it too. Then: the newest checkpoint's signature
must verify with the trusted keys and its signed size and root must be the stored ones; the
logged leaf hashes must give that root; no ledger row below the integrator's low-water mark
may be missing from the log; and the tree recomputed from the ledger as it stands now (every
leaf's row rebuilt, deleted rows left out, missed rows appended) must give the checkpoint's
size and root.

Findings come in index order, so the first one is the first leaf that no longer matches.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, text

from settlement_client.tlog.checkpoint import CheckpointError, open_checkpoint
from settlement_client.tlog.hashing import leaf_hash
from settlement_client.tlog.leaf import FIELDS, Leaf, LeafError
from settlement_client.tlog.note import VerifierKey
from settlement_core.categories import DIRECTION_BY_VALUE
from settlement_core.events import SettlementEvent
from settlement_core.tlog.compact import CompactRange
from settlement_core.tlog.ledger_leaf import ledger_leaf
from settlement_core.tlog.signing import derive_salt
from settlement_core.tlog.store import LogReader

MAX_FINDINGS = 100  # enough to act on; a wholesale rewrite is clear from the first few

_LEAVES = text("""
    SELECT l.idx, l.ledger_row_id, l.leaf_hash, l.leaf_data, e.id AS row_id, e.bank_id, e.event_id, e.body_hash,
      e.categories, e.amount, e.currency, e.value_date, e.direction, e.counterparty_country, e.reverses, e.uetr,
      e.ingested_at, e.corrects, e.reason_code, e.reason_text
    FROM tlog_leaves l LEFT JOIN ledger_events e ON e.id = l.ledger_row_id
    WHERE l.idx >= :start ORDER BY l.idx LIMIT :chunk
""")
_MISSED = text("""
    SELECT e.id AS row_id, e.bank_id, e.event_id, e.body_hash, e.categories, e.amount, e.currency, e.value_date,
      e.direction, e.counterparty_country, e.reverses, e.uetr, e.ingested_at, e.corrects, e.reason_code,
      e.reason_text
    FROM ledger_events e, tlog_state s
    WHERE e.id <= s.low_water AND NOT EXISTS (SELECT 1 FROM tlog_leaves l WHERE l.ledger_row_id = e.id)
    ORDER BY e.id
""")


class FindingKind(StrEnum):
    CHANGED = "changed"  # the leaf's ledger row exists but no longer gives the leaf
    DELETED = "deleted"  # the leaf's ledger row is gone
    EXTRA = "extra"  # a ledger row the log should hold and does not
    LOG = "log"  # the log's own tables disagree with themselves
    CHECKPOINT = "checkpoint"  # the newest checkpoint is unsigned, mis-signed or not the tree's


@dataclass(frozen=True, slots=True)
class Difference:
    """One way the ledger row differs from what the log committed to: a leaf member, or
    `ledger_events.body_hash` (the stored hash against the hash of the row's fields)."""

    member: str
    logged: str | None  # None: the log does not know (a leaf logged without its data)
    ledger: str


@dataclass(frozen=True, slots=True)
class AuditFinding:
    kind: FindingKind
    index: int | None  # the leaf, when the finding is about one
    ledger_row_id: int | None
    reason: str
    bank_id: str | None = None
    event_id: str | None = None
    differs: tuple[Difference, ...] = ()


@dataclass
class AuditReport:
    leaves: int = 0
    log_root: bytes = b""  # of the logged leaf hashes
    checkpoint_size: int = 0
    checkpoint_root: bytes | None = None  # None: no checkpoint
    ledger_size: int = 0  # the tree recomputed from the ledger
    ledger_root: bytes = b""
    findings: list[AuditFinding] = field(default_factory=list)
    findings_total: int = 0  # findings beyond MAX_FINDINGS are counted, not kept

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, finding: AuditFinding) -> None:
        self.findings_total += 1
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


def row_body_hash(r: Row[Any]) -> str:
    """The body hash of the row's own fields, as the aggregator computed it at insert."""
    return SettlementEvent(
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
        corrects=r.corrects,
        reason_code=r.reason_code,
        reason_text=r.reason_text,
    ).body_hash()


def _ledger_leaf(r: Row[Any], salt_key: bytes) -> Leaf:
    """The leaf the integrator would log for the row as it stands now."""
    salt = derive_salt(salt_key, r.bank_id, r.event_id)
    return ledger_leaf(r.bank_id, r.event_id, bytes.fromhex(row_body_hash(r)), r.ingested_at, salt)


def _logged_leaf(r: Row[Any], report: AuditReport) -> Leaf | None:
    """The leaf data the log keeps for this leaf, if any and if it is the logged leaf's."""
    if r.leaf_data is None:
        return None
    data = bytes(r.leaf_data)
    try:
        leaf = Leaf.from_canonical_json(data)
    except LeafError:
        leaf = None
    if leaf is None or leaf_hash(data) != bytes(r.leaf_hash):
        report.add(
            AuditFinding(
                FindingKind.LOG,
                r.idx,
                r.ledger_row_id,
                "the log's leaf data does not hash to its leaf hash (the log's table was edited)",
            )
        )
        return None
    return leaf


def _differences(logged: Leaf | None, ledger: Leaf) -> tuple[Difference, ...]:
    if logged is None:
        return ()
    return tuple(
        Difference(name, getattr(logged, name), getattr(ledger, name))
        for name in FIELDS
        if getattr(logged, name) != getattr(ledger, name)
    )


def _check_leaf(r: Row[Any], salt_key: bytes, report: AuditReport, ledger: CompactRange) -> None:
    logged = _logged_leaf(r, report)
    if r.row_id is None:  # the row is gone: who it was is known from the log's own copy of the leaf
        report.add(
            AuditFinding(
                FindingKind.DELETED,
                r.idx,
                r.ledger_row_id,
                "the ledger row of this leaf was deleted",
                bank_id=logged.bank_id if logged else None,
                event_id=logged.event_id if logged else None,
            )
        )
        return
    bank_id, event_id = r.bank_id, r.event_id
    try:
        rebuilt = _ledger_leaf(r, salt_key)
    except (KeyError, ValueError, ArithmeticError) as exc:  # e.g. a direction or currency edited to nonsense
        reason = f"the ledger row's fields no longer form an event ({type(exc).__name__}: {exc})"
        report.add(AuditFinding(FindingKind.CHANGED, r.idx, r.row_id, reason, bank_id=bank_id, event_id=event_id))
        return
    ledger.append(rebuilt.leaf_hash())
    stored = bytes(r.body_hash).hex()
    if rebuilt.body_sha256 != stored:
        differs = (Difference("ledger_events.body_hash", stored, rebuilt.body_sha256), *_differences(logged, rebuilt))
        report.add(
            AuditFinding(
                FindingKind.CHANGED,
                r.idx,
                r.row_id,
                "the ledger row's fields no longer give its body hash (edited)",
                differs=differs,
                bank_id=bank_id,
                event_id=event_id,
            )
        )
    elif rebuilt.leaf_hash() != bytes(r.leaf_hash):
        report.add(
            AuditFinding(
                FindingKind.CHANGED,
                r.idx,
                r.row_id,
                "the ledger row no longer gives the logged leaf",
                differs=_differences(logged, rebuilt),
                bank_id=bank_id,
                event_id=event_id,
            )
        )


def _check_checkpoint(conn: Connection, origin: str, trusted: Sequence[VerifierKey], report: AuditReport) -> None:
    latest = LogReader(conn).latest_checkpoint()
    if latest is None:
        if report.leaves:
            report.add(AuditFinding(FindingKind.CHECKPOINT, None, None, "the log has leaves but no checkpoint"))
        return
    report.checkpoint_size, report.checkpoint_root = latest.size, latest.root_hash
    try:
        signed = open_checkpoint(latest.note, origin, trusted)
    except CheckpointError as exc:
        report.add(AuditFinding(FindingKind.CHECKPOINT, None, None, f"the newest checkpoint does not verify: {exc}"))
        return
    if (signed.size, signed.root_hash) != (latest.size, latest.root_hash):
        report.add(
            AuditFinding(
                FindingKind.CHECKPOINT, None, None, "the newest checkpoint's signed size or root is not the stored one"
            )
        )


def audit_log(
    conn: Connection, salt_key: bytes, origin: str, trusted: Sequence[VerifierKey], chunk: int = 10_000
) -> AuditReport:
    """Run inside one REPEATABLE READ transaction so the log and the ledger are one snapshot
    (the integrator commits leaves and their checkpoint together, so the newest checkpoint
    then covers exactly the leaves read). `trusted`: the log's verifier keys, from outside
    the database being audited."""
    report = AuditReport()
    logged = CompactRange(0, [])
    ledger = CompactRange(0, [])
    for r in _rows(conn, chunk):
        if r.idx != logged.size:
            report.add(
                AuditFinding(FindingKind.LOG, r.idx, None, f"leaf index {r.idx} follows {logged.size - 1}: a gap")
            )
        logged.append(bytes(r.leaf_hash))
        report.leaves += 1
        _check_leaf(r, salt_key, report, ledger)
    report.log_root = logged.root()

    _check_checkpoint(conn, origin, trusted, report)
    if report.checkpoint_root is not None:
        if report.checkpoint_size != logged.size:
            report.add(
                AuditFinding(
                    FindingKind.LOG,
                    None,
                    None,
                    f"the newest checkpoint has {report.checkpoint_size} leaves, the log {logged.size}",
                )
            )
        elif report.checkpoint_root != report.log_root:
            report.add(
                AuditFinding(
                    FindingKind.LOG, None, None, "the logged leaf hashes do not give the newest checkpoint's root"
                )
            )

    for r in conn.execute(_MISSED):
        # Named below all the same; a row whose fields no longer form an event has no leaf.
        with contextlib.suppress(KeyError, ValueError, ArithmeticError):
            ledger.append(_ledger_leaf(r, salt_key).leaf_hash())
        report.add(
            AuditFinding(
                FindingKind.EXTRA,
                None,
                r.row_id,
                "a ledger row below the low-water mark is not in the log",
                bank_id=r.bank_id,
                event_id=r.event_id,
            )
        )
    report.ledger_size, report.ledger_root = ledger.size, ledger.root()
    # Every way the recomputed tree can differ is named above; this is the backstop that
    # makes "ok" mean exactly "the ledger gives the signed root".
    if (
        report.ok
        and report.checkpoint_root is not None
        and (report.ledger_size, report.ledger_root) != (report.checkpoint_size, report.checkpoint_root)
    ):
        report.add(
            AuditFinding(
                FindingKind.CHECKPOINT,
                None,
                None,
                "the tree recomputed from the ledger does not give the newest checkpoint's size and root",
            )
        )
    return report
