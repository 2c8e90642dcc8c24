"""Ledger rows and a migrated database for the log's tests against the real PostgreSQL.

Rows go in with plain INSERTs of the columns the aggregator writes (the log reads only
id, bank_id, event_id, body_hash and ingested_at; the others just have to be valid).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, text

from settlement_core.categories import DIRECTION_BY_VALUE
from settlement_core.db.migrate import upgrade
from settlement_core.events import SettlementEvent
from settlement_core.tlog.keys import LogKeys, SigningKey
from tests.support.databases import TestDatabases
from tests.support.stack import stack_env

ORIGIN = "settlement.test/log"
SALT_KEY = bytes(range(32))
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)

_INSERT = text("""
    INSERT INTO ledger_events (bank_id, event_id, body_hash, categories, amount, currency, value_date,
      direction, counterparty_country, status, kafka_partition, kafka_offset, ingested_at, applied_at)
    VALUES (:bank_id, :event_id, :body_hash, ARRAY['offshore'], :amount, 'USD', :value_date,
      'inbound', 'HK', 'counted', 0, :offset, :ingested_at, :applied_at)
    RETURNING id
""")


def new_database(databases: TestDatabases) -> str:
    """A migrated database of its own, dropped when the session ends."""
    import settlement_core.tlog.schema  # noqa: F401  (the log's tables on the models' metadata)

    url = databases.create(stack_env()["DATABASE_URL"], f"t_tlog_{uuid.uuid4().hex[:10]}")
    upgrade(url)
    return url


def new_keys() -> LogKeys:
    return LogKeys(ORIGIN, SigningKey.generate(ORIGIN))


def insert_rows(conn: Connection, bank_id: str, first: int, count: int, applied_at: datetime = LONG_AGO) -> list[int]:
    ids = []
    for n in range(first, first + count):
        event = SettlementEvent(
            bank_id=bank_id,
            event_id=f"E-{n}",
            categories=("offshore",),
            amount=Decimal(f"{n}.25"),
            currency="USD",
            value_date=date(2020, 3, 1),
            direction=DIRECTION_BY_VALUE["inbound"],
            counterparty_country="HK",
        )
        body = bytes.fromhex(event.body_hash())  # as the aggregator stores it
        ids.append(
            conn.execute(
                _INSERT,
                {
                    "bank_id": bank_id,
                    "event_id": f"E-{n}",
                    "body_hash": body,
                    "amount": event.amount,
                    "value_date": date(2020, 3, 1),
                    "offset": n,
                    "ingested_at": applied_at - timedelta(milliseconds=5),
                    "applied_at": applied_at,
                },
            ).scalar_one()
        )
    return ids
