"""Registers a bank and an operator straight in a test's ledger database (as `settlementctl
bank add` / `operator add` would), returning their API keys."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from settlement_core.auth import generate_key, hash_key
from settlement_core.db.models import Bank, Operator


def add_bank_and_operator(database_url: str, bank_id: str, bank_name: str, operator: str) -> tuple[str, str]:
    """(bank key, operator key); the bank is never throttled (tests measure counting, not limits)."""
    bank_key, operator_key = generate_key(), generate_key()
    engine = create_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            session.add(
                Bank(
                    bank_id=bank_id,
                    name=bank_name,
                    key_hash=hash_key(bank_key),
                    active=True,
                    rate_per_second=10_000,
                    burst=10_000,
                )
            )
            session.add(Operator(name=operator, key_hash=hash_key(operator_key), active=True))
    finally:
        engine.dispose()
    return bank_key, operator_key
