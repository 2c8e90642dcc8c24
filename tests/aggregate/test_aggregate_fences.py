"""The fence protocol against the real PostgreSQL and Redis, step by step (no consumer):
a zombie's ledger commit is fenced, a Redis apply is compare-and-set, a missed apply is
replayed from ledger_effects in chunks, rebuild/reconcile agree with the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import redis
from sqlalchemy import Engine, create_engine

from settlement_aggregate.decode import Received, split
from settlement_aggregate.ledger import CommitResult, LedgerRepository
from settlement_aggregate.projection import Projection
from settlement_aggregate.rebuild import rebuild, reconcile
from settlement_core.buckets import totals_key
from settlement_core.categories import Direction
from settlement_core.events import Envelope, SettlementEvent, encode
from tests.aggregate import probe
from tests.plan_catalogue import KNOWN, RULES

pytestmark = pytest.mark.integration

P = 0


def message(event_id: str, amount: str, reverses: str | None = None) -> bytes:
    ev = SettlementEvent(
        bank_id="bf",
        event_id=event_id,
        categories=("offshore",),
        amount=Decimal(amount),
        currency="USD",
        value_date=date(2020, 2, 29),
        direction=Direction.INBOUND,
        counterparty_country="HK",
        reverses=reverses,
    )
    return encode(Envelope(ev, datetime.now(UTC)))


@pytest.fixture(scope="module")
def engine(isolated_env: dict[str, str]) -> Iterator[Engine]:
    eng = create_engine(isolated_env["DATABASE_URL"])
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def repo(engine: Engine, isolated_env: dict[str, str]) -> LedgerRepository:
    return LedgerRepository(engine, isolated_env["CONSUMER_GROUP"], isolated_env["EVENTS_TOPIC"])


@pytest.fixture(scope="module")
def client(isolated_env: dict[str, str]) -> redis.Redis:
    return probe.redis_client(isolated_env)


def commit(repo: LedgerRepository, first_offset: int, values: list[bytes], belief: int) -> CommitResult:
    records = [Received(P, first_offset + i, b"bf", v) for i, v in enumerate(values)]
    valid, invalid = split(records, KNOWN)
    return repo.commit_batch(valid, invalid, {P: belief}, {P: records[-1].offset}, before_commit=lambda plan: None)


def usd_total(client: redis.Redis) -> int:
    return int(client.hget(totals_key(P), "c|offshore|USD|d|2020-02-29") or 0)


def test_fences_end_to_end(
    repo: LedgerRepository, client: redis.Redis, engine: Engine, isolated_env: dict[str, str]
) -> None:
    assert repo.claim_positions({P: 0}) == {P: 0}
    assert repo.claim_positions({P: 5}) == {P: 0}, "an existing position always wins"
    projection = Projection(client, repo, replay_chunk=1, rules=RULES)

    first = commit(repo, 0, [message("a", "1.00"), message("b", "2.00")], belief=0)
    assert [(c.prev_next, c.new_next) for c in first.committed] == [(0, 2)]
    assert projection.apply(P, -1, 1, list(first.plan.effects)).fence == 1
    assert usd_total(client) == 300
    # Applying the same batch again (e.g. a retry after a timeout) changes nothing.
    again = projection.apply(P, -1, 1, list(first.plan.effects))
    assert (again.fence, usd_total(client)) == (1, 300)

    # A zombie that still believes offset 0 is next cannot write anything.
    zombie = commit(repo, 0, [message("a", "1.00"), message("z", "9.00")], belief=0)
    assert zombie.fenced == {P: 2}
    assert not zombie.committed
    assert not zombie.plan.effects
    assert probe.scalar(isolated_env, "SELECT count(*) FROM ledger_events") == 2

    # Crash between ledger commit and Redis apply: batch 2 never reaches Redis ...
    second = commit(repo, 2, [message("c", "4.00"), message("r", "1.00", reverses="a")], belief=2)
    assert [e.amount_minor for e in second.plan.effects] == [400, -100]
    # ... and the next batch's compare-and-set fails, so the gap is replayed from the ledger
    # (chunk size 1: one offset per Redis call).
    third = commit(repo, 4, [message("d", "8.00")], belief=4)
    outcome = projection.apply(P, 3, 4, list(third.plan.effects))
    assert outcome.fence == 4
    assert outcome.replayed_effects == 3
    assert usd_total(client) == 100 + 200 + 400 - 100 + 800

    # Redis and ledger agree; tampering is drift; rebuild repairs it.
    group, topic = isolated_env["CONSUMER_GROUP"], isolated_env["EVENTS_TOPIC"]
    assert all(not c.drift for c in reconcile(engine, client, group, topic, RULES))
    client.hincrby(totals_key(P), "c|offshore|USD|d|2020-02-29", 1)
    drift = [d for c in reconcile(engine, client, group, topic, RULES) for d in c.drift]
    assert [(d.field, d.redis - d.ledger) for d in drift] == [("c|offshore|USD|d|2020-02-29", 1)]
    before = client.hgetall(totals_key(P))
    [result] = rebuild(engine, client, group, topic, RULES)
    assert (result.partition, result.fence, result.effects) == (P, 4, 5)
    assert usd_total(client) == 1400
    assert all(not c.drift for c in reconcile(engine, client, group, topic, RULES))
    assert client.hgetall(totals_key(P)) == {k: v for k, v in before.items() if k != "c|offshore|USD|d|2020-02-29"} | {
        "c|offshore|USD|d|2020-02-29": "1400"
    }
