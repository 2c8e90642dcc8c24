"""The log's tables read and written (thin adapter over settlement_core.tlog.schema).

`Subtrees` for proofs reads perfect subtree hashes by (level, index); `LogReader` answers
what the API serves: the newest checkpoint, consistency proofs between checkpointed sizes,
an event's tlog-proof, the published keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, text

from settlement_client.tlog.proofs import ConsistencyProof
from settlement_client.tlog.tlog_proof import TlogProof
from settlement_core.tlog.compact import edge_positions
from settlement_core.tlog.ledger_leaf import ledger_leaf
from settlement_core.tlog.schema import TLOG_CHECKPOINTS, TLOG_KEYS, TLOG_LEAVES, TLOG_NODES
from settlement_core.tlog.tree import Tree


class StoredSubtrees:
    """tree.Subtrees over tlog_leaves (level 0) and tlog_nodes (levels >= 1)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def perfect(self, level: int, index: int) -> bytes:
        if level == 0:
            found = self._conn.execute(select(TLOG_LEAVES.c.leaf_hash).where(TLOG_LEAVES.c.idx == index)).scalar()
        else:
            found = self._conn.execute(
                select(TLOG_NODES.c.hash).where(TLOG_NODES.c.level == level, TLOG_NODES.c.idx == index)
            ).scalar()
        if found is None:
            raise LookupError(f"the log has no subtree at level {level}, index {index}")
        return bytes(found)


def read_edge(conn: Connection, size: int) -> list[bytes]:
    """The right-edge hashes of the stored tree of `size` leaves (compact.CompactRange)."""
    subtrees = StoredSubtrees(conn)
    return [subtrees.perfect(level, index) for level, index in edge_positions(size)]


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    size: int
    root_hash: bytes
    note: str


class LedgerRowChanged(Exception):
    """A logged ledger row no longer gives the leaf hash the log holds for it: the row was
    changed after it was logged (evidence, not a transient error)."""

    def __init__(self, index: int) -> None:
        super().__init__(f"leaf {index}: the ledger row no longer matches the logged leaf")
        self.index = index


class LogReader:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        row = self._conn.execute(
            select(TLOG_CHECKPOINTS.c.size, TLOG_CHECKPOINTS.c.root_hash, TLOG_CHECKPOINTS.c.note)
            .order_by(TLOG_CHECKPOINTS.c.size.desc())
            .limit(1)
        ).first()
        return None if row is None else StoredCheckpoint(row.size, bytes(row.root_hash), row.note)

    def checkpoint_at(self, size: int) -> StoredCheckpoint | None:
        row = self._conn.execute(
            select(TLOG_CHECKPOINTS.c.size, TLOG_CHECKPOINTS.c.root_hash, TLOG_CHECKPOINTS.c.note).where(
                TLOG_CHECKPOINTS.c.size == size
            )
        ).first()
        return None if row is None else StoredCheckpoint(row.size, bytes(row.root_hash), row.note)

    def consistency(self, old_size: int, new_size: int) -> ConsistencyProof:
        """Between any two sizes the log has reached (new_size <= the newest checkpoint)."""
        return Tree(StoredSubtrees(self._conn), new_size).consistency(old_size)

    def published_keys(self) -> list[str]:
        return list(self._conn.execute(select(TLOG_KEYS.c.vkey).order_by(TLOG_KEYS.c.first_used)).scalars())

    def proof(self, bank_id: str, event_id: str) -> TlogProof | None:
        """The event's tlog-proof under the newest checkpoint, or None while it is not in the
        log. Raises LedgerRowChanged when the row no longer matches its logged leaf."""
        checkpoint = self.latest_checkpoint()
        row = self._conn.execute(
            text("""
                SELECT l.idx, l.leaf_hash, l.salt, e.bank_id, e.event_id, e.body_hash, e.ingested_at
                FROM ledger_events e JOIN tlog_leaves l ON l.ledger_row_id = e.id
                WHERE e.bank_id = :bank_id AND e.event_id = :event_id
            """),
            {"bank_id": bank_id, "event_id": event_id},
        ).first()
        if row is None or checkpoint is None or row.idx >= checkpoint.size:
            return None
        leaf = ledger_leaf(row.bank_id, row.event_id, bytes(row.body_hash), row.ingested_at, bytes(row.salt).hex())
        if leaf.leaf_hash() != bytes(row.leaf_hash):
            raise LedgerRowChanged(row.idx)
        path = Tree(StoredSubtrees(self._conn), checkpoint.size).inclusion(row.idx)
        return TlogProof(row.idx, path.hashes, checkpoint.note, leaf.canonical_json())
