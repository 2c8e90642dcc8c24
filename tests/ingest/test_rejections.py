"""The per-bank tally of events refused for their content (settlement_ingest.rejections): the
pure tally, and the statement that adds counts, run against the real PostgreSQL of the stack
(adding, never overwriting, as two workers flushing the same bank and month must)."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import create_engine, text

from settlement_ingest.rejections import RejectionTally, flush
from tests.support.stack import stack_env


def test_the_tally_counts_per_bank_and_month_of_receipt_and_empties_when_taken() -> None:
    tally = RejectionTally()
    tally.note("A", 2, date(2020, 1, 31))
    tally.note("A", 1, date(2020, 2, 1))
    tally.note("B", 0, date(2020, 2, 1))  # nothing refused: no entry
    tally.note("A", 3, date(2020, 1, 2))
    assert tally.take() == {("A", "2020-01"): 5, ("A", "2020-02"): 1}
    assert tally.take() == {}


def test_counts_given_back_after_a_failed_flush_add_to_new_ones() -> None:
    tally = RejectionTally()
    tally.note("A", 2, date(2020, 1, 31))
    taken = tally.take()
    tally.note("A", 1, date(2020, 1, 5))
    tally.give_back(taken)
    assert tally.pending() == {("A", "2020-01"): 3}


@pytest.mark.integration
def test_two_workers_flushing_the_same_bank_add_up_in_postgresql() -> None:
    env = stack_env()
    engine = create_engine(env["DATABASE_URL"])
    bank = "rejtally"
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM intake_rejections WHERE bank_id = :b"), {"b": bank})
        conn.execute(
            text(
                "INSERT INTO banks (bank_id, name, active, rate_per_second, burst) VALUES (:b, 'Tally', true, 1, 1)"
                " ON CONFLICT (bank_id) DO NOTHING"
            ),
            {"b": bank},
        )
    one, two = RejectionTally(), RejectionTally()
    one.note(bank, 2, date(2020, 1, 9))
    two.note(bank, 5, date(2020, 1, 20))
    two.note(bank, 1, date(2020, 2, 3))
    assert asyncio.run(flush(one, engine)) == 2
    assert asyncio.run(flush(two, engine)) == 6
    assert asyncio.run(flush(two, engine)) == 0  # nothing left: no statement
    with engine.connect() as conn:
        found = conn.execute(text("SELECT period, count FROM intake_rejections WHERE bank_id = :b"), {"b": bank})
        rows: dict[str, int] = {r[0]: r[1] for r in found}
    engine.dispose()
    assert rows == {"2020-01": 7, "2020-02": 1}
    assert one.pending() == two.pending() == {}


@pytest.mark.integration
def test_a_flush_that_cannot_reach_postgresql_keeps_its_counts() -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    engine = create_engine("postgresql+psycopg://nobody:x@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
    tally = RejectionTally()
    tally.note("A", 4, date(2020, 3, 1))
    assert asyncio.run(flush(tally, engine)) == 0
    assert tally.pending() == {("A", "2020-03"): 4}
    engine.dispose()
