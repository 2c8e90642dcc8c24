"""Register banks in a test's own ledger database, as `settlementctl bank add` would.

The aggregator dead-letters an event whose bank was never registered (`unknown_bank`), so
tests that write events straight to Kafka register the banks those events name first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import create_engine
from sqlalchemy.dialects.postgresql import insert

from settlement_core.db.models import Bank


def bank_ids_of(values: Iterable[bytes | None]) -> set[str]:
    """The bank_id of every record value that is a JSON object naming one (poison included)."""
    found: set[str] = set()
    for value in values:
        try:
            decoded = json.loads(value) if value else None
        except ValueError:
            continue
        if isinstance(decoded, dict) and isinstance(decoded.get("bank_id"), str):
            found.add(decoded["bank_id"][:32])
    return found


def register_banks(database_url: str, bank_ids: Iterable[str]) -> None:
    rows = [{"bank_id": b, "name": f"test bank {b}", "active": True} for b in sorted(set(bank_ids))]
    if not rows:
        return
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(Bank).values(rows).on_conflict_do_nothing(index_elements=["bank_id"]))
    finally:
        engine.dispose()
