"""What the aggregator has made durable in a namespace's database, read through the
product's own table definitions: the stages and the soak count progress the same way."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from settlement_core.db.models import ConsumerOffset, LedgerEvent


def committed_events(conn: Connection, topic: str | None = None) -> int:
    """Events whose offsets the ledger has committed: the sum of consumer_offsets.next_offset
    (of `topic`, or of every topic; a namespace's topics are written from offset 0)."""
    query = select(func.coalesce(func.sum(ConsumerOffset.next_offset), 0))
    if topic is not None:
        query = query.where(ConsumerOffset.topic == topic)
    return int(conn.execute(query).scalar_one())


def ledger_rows(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(LedgerEvent)).scalar_one())
