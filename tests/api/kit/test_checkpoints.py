"""Knowledge checkpoints (kit/checkpoints.py) against the whole-ledger scan and an independent
oracle: reads at knowledge times before, on and just after checkpoints, across a reversal, a
late event and a rule change; a checkpoint grouped for another home country is not used; and
a checkpoint written while an aggregator batch is in flight (the real ledger transaction,
held open before its commit) waits for it and includes it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from settlement_aggregate.decode import Received, split
from settlement_aggregate.ledger import LedgerRepository
from settlement_aggregate.planning import BatchPlan
from settlement_api.kit.checkpoints import Written, checkpoint_once
from settlement_api.kit.known_at import (
    EffectGroup,
    LedgerSnapshot,
    effect_groups,
    increments_of,
    knowledge_barrier,
    known_base,
    known_groups,
    known_snapshot,
    rules_at,
    snapshot_at,
)
from settlement_api.progress.settled import SettledQuery, settled_amounts
from settlement_core.categories import Direction
from settlement_core.events import Envelope, SettlementEvent, encode
from settlement_core.fx import FxTable
from settlement_core.rules import NO_RULES
from tests.api.kit.test_known_at import ECOM_RULE, NONE, RMB, _record
from tests.api.ledger_state import Event, LedgerState
from tests.plan_catalogue import KNOWN

ECOM = "cross_border_ecommerce"
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
TICK = timedelta(microseconds=1)  # PostgreSQL's timestamptz resolution


def at(minutes: float) -> datetime:
    return BASE + timedelta(minutes=minutes)


# Each event commits at its own time; E3 and the reversal commit exactly on checkpoint times.
E1 = Event("bkX", "c1", ECOM, Decimal("100.00"), "CNY", date(2020, 3, 1), country="SG", processed_at=at(1))
E2 = Event("bkY", "c2", RMB, Decimal("50.00"), "CNY", date(2020, 4, 1), country="SG", processed_at=at(2))
E3 = Event("bkX", "c3", ECOM, Decimal("7.00"), "CNY", date(2020, 5, 1), country="CN", processed_at=at(4))
E4 = Event("bkY", "c4-late", RMB, Decimal("1.25"), "CNY", date(2020, 1, 5), country="SG", processed_at=at(6))
E5 = Event("bkZ", "c5", ECOM, Decimal("0.01"), "CNY", date(2020, 5, 1), country="US", processed_at=at(6))
REVERSAL_OF_E1_AT = at(5)
RULE_CHANGE_AT = at(3)
CHECKPOINTS = (at(1.5), at(4), at(5))


def oracle(t: datetime) -> tuple[Decimal, Decimal, int]:
    """(cross-border RMB, e-commerce, RMB events) known at t, as Decimal sums over the events
    listed here: committed by t, minus E1 once its reversal is, with the rule of the test
    (e-commerce in CNY with a foreign counterparty also counts toward RMB) from its change."""
    known = [e for e in (E1, E2, E3, E4, E5) if e.processed_at <= t]
    if t >= REVERSAL_OF_E1_AT:
        known.remove(E1)
    rule = t >= RULE_CHANGE_AT
    rmb = [e for e in known if e.category == RMB or (rule and e.category == ECOM and e.country != "CN")]
    ecom = [e for e in known if e.category == ECOM]
    return sum((e.amount for e in rmb), Decimal(0)), sum((e.amount for e in ecom), Decimal(0)), len(rmb)


@pytest.fixture(scope="module")
def state(isolated_env: dict[str, str]) -> Iterator[LedgerState]:
    ledger = LedgerState(isolated_env)
    yield ledger
    ledger.close()


def _sorted(groups: list[EffectGroup]) -> list[EffectGroup]:
    return sorted(groups, key=repr)


def _groups(engine: Engine, t: datetime, home: str = "CN") -> tuple[list[EffectGroup], list[EffectGroup], int | None]:
    """(from checkpoints, from the whole ledger, the checkpoint used) in one snapshot."""
    with engine.connect() as raw:
        conn = raw.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            merged, checkpoint = known_groups(conn, t, home)
            scanned = effect_groups(conn, t, home)
    return _sorted(merged), _sorted(scanned), None if checkpoint is None else checkpoint.id


def _write(engine: Engine, when: datetime) -> Written:
    written = checkpoint_once(engine, NO_RULES, keep=100, at=when)
    assert written is not None
    return written


@pytest.mark.integration
def test_reads_around_checkpoints_equal_the_scan_and_the_oracle(state: LedgerState) -> None:
    _record(state, NONE, at(0), "init")
    for event in (E1, E2, E3):
        state.count(event)
    _record(state, ECOM_RULE, RULE_CHANGE_AT, "rebuild")
    state.reverse(replace(E1, processed_at=REVERSAL_OF_E1_AT), "c1-r")
    state.count(E4)
    state.count(E5)
    written = [_write(state.engine, when) for when in CHECKPOINTS]
    assert [w.built_on for w in written] == [None, written[0].id, written[1].id], "each builds on the one before"
    assert [w.groups for w in written] == [1, 3, 4], "E1 | + E2, E3 | + E1's subtraction"

    fx = FxTable([])
    used: set[int | None] = set()
    times = [at(-1), at(1), at(2), at(3), at(5.5), at(6), at(60)]
    for checkpoint in CHECKPOINTS:
        times += [checkpoint - TICK, checkpoint, checkpoint + TICK]
    for t in times:
        merged, scanned, checkpoint_id = _groups(state.engine, t)
        assert merged == scanned, t
        used.add(checkpoint_id)
        known = snapshot_at(state.engine, t, NO_RULES)
        queries = {
            RMB: SettledQuery(RMB, "CNY", date(2020, 1, 1), date(2020, 12, 31)),
            ECOM: SettledQuery(ECOM, "CNY", date(2020, 1, 1), date(2020, 12, 31)),
        }
        got = asyncio.run(settled_amounts(known.snapshot, fx, queries))
        rmb, ecom, rmb_events = oracle(t)
        assert (got[RMB].amounts.converted, got[ECOM].amounts.converted) == (rmb, ecom), t
        assert got[RMB].events_counted == rmb_events, t
    assert used == {None, *(w.id for w in written)}, "every checkpoint and the no-checkpoint scan were read"
    # The oracle separates the cases around the boundaries: E3 on the second checkpoint, the
    # reversal on the third, and two effects after the last.
    assert oracle(at(4) - TICK)[1] == Decimal("100.00")
    assert oracle(at(4))[1] == Decimal("107.00")
    assert oracle(at(5) - TICK)[0] == Decimal("150.00")
    assert oracle(at(5))[0] == Decimal("50.00")
    assert oracle(at(6)) == (Decimal("51.26"), Decimal("7.01"), 3)


@pytest.mark.integration
def test_a_checkpoint_of_another_home_country_is_not_used(state: LedgerState) -> None:
    merged, scanned, checkpoint = _groups(state.engine, at(60), home="SG")
    assert checkpoint is None
    assert merged == scanned
    assert {g.country for g in merged} >= {"SG", "XX"}, "grouped for SG: CN is foreign there"


@pytest.mark.integration
def test_a_checkpoint_waits_for_a_batch_in_flight(state: LedgerState, isolated_env: dict[str, str]) -> None:
    """The aggregator's own ledger transaction reads its commit time under the partition's
    lock and is held open before its commit; a checkpoint started then must wait for it and
    include its effect. Without the barrier (summing at once at the barrier-less clock), the
    checkpoint's time would be after the batch's commit time but its snapshot would not see
    the batch: the read at that time would miss 9.99 CNY that the scan later finds."""
    repo = LedgerRepository(state.engine, isolated_env["CONSUMER_GROUP"], isolated_env["EVENTS_TOPIC"])
    partition = 0
    assert repo.claim_positions({partition: 0}) == {partition: 0}
    event = SettlementEvent(
        bank_id="bkW",
        event_id="in-flight",
        categories=(RMB,),
        amount=Decimal("9.99"),
        currency="CNY",
        value_date=date(2020, 6, 1),
        direction=Direction.INBOUND,
        counterparty_country="SG",
    )
    valid, invalid = split([Received(partition, 0, b"bkW", encode(Envelope(event, datetime.now(UTC))))], KNOWN)
    inside, release = threading.Event(), threading.Event()

    def hold(plan: BatchPlan) -> None:
        inside.set()
        release.wait(30)

    batch = threading.Thread(target=repo.commit_batch, args=(valid, invalid, {partition: 0}, {partition: 0}, hold))
    batch.start()
    assert inside.wait(30), "the batch reached its commit"
    results: list[Written | None] = []
    writer = threading.Thread(target=lambda: results.append(checkpoint_once(state.engine, NO_RULES, keep=100)))
    writer.start()
    writer.join(1.0)
    assert writer.is_alive(), "the checkpoint waits for the batch in flight"
    release.set()
    batch.join(30)
    writer.join(30)
    written = results[0]
    assert written is not None
    with state.engine.connect() as conn:
        committed = conn.execute(
            text("SELECT processed_at FROM ledger_effects WHERE kafka_partition = :p AND kafka_offset = 0"),
            {"p": partition},
        ).scalar_one()
    assert committed < written.at, "the batch read its commit time before the checkpoint's"
    merged, scanned, checkpoint = _groups(state.engine, written.at)
    assert checkpoint == written.id
    assert merged == scanned
    assert any(g.bank_id == "bkW" and g.amount_minor == 999 for g in merged)
    rmb = oracle(at(60))[0] + Decimal("9.99")
    got = asyncio.run(
        settled_amounts(
            snapshot_at(state.engine, written.at, NO_RULES).snapshot,
            FxTable([]),
            {RMB: SettledQuery(RMB, "CNY", date(2020, 1, 1), date(2020, 12, 31))},
        )
    )
    assert got[RMB].amounts.converted == rmb


def _whole(engine: Engine, t: datetime) -> LedgerSnapshot:
    """The store as known at t from every group of the ledger, counted at once."""
    with engine.connect() as conn:
        rules = rules_at(conn, t, NO_RULES)
        groups = effect_groups(conn, t, rules.rules.home_country)
    return LedgerSnapshot(increments_of(groups, rules.rules))


async def _same(got: LedgerSnapshot, expected: LedgerSnapshot, names: list[str]) -> None:
    assert await got.sum_fields(names) == await expected.sum_fields(names)
    assert await got.seen() == await expected.seen()


@pytest.mark.integration
def test_the_in_memory_base_and_its_tail_equal_the_whole_count(state: LedgerState) -> None:
    """KnownBase: a read at T sums the base (built from the newest checkpoint) and the effects
    since, or subtracts those between T and the base when T is earlier; before and after the
    base, across a reversal and a late event after it and a rule change, every field and
    every seen member equals the count of the whole ledger at T."""
    engine = state.engine
    kb = known_base(engine)
    first = kb.advance(engine, NO_RULES)
    late = Event("bkV", "c6", RMB, Decimal("2.50"), "CNY", date(2020, 2, 1), country="SG")
    state.count(late)
    state.reverse(replace(E2, processed_at=datetime.now(UTC)), "c2-r")
    after_reversal = knowledge_barrier(engine)
    state.count(Event("bkV", "c7", ECOM, Decimal("3.00"), "CNY", date(2020, 2, 2), country="JP"))
    now = knowledge_barrier(engine)
    # Before the base (its rule set from at(3): at(2) counts with the earlier set, without
    # the base), on it, and after it.
    times = [
        at(2),
        at(3),
        at(4) - TICK,
        at(5),
        at(6),
        first.at - TICK,
        first.at,
        late.processed_at,
        after_reversal,
        now,
    ]
    for t in times:
        whole = _whole(engine, t)
        got = known_snapshot(engine, t, NO_RULES)
        names = list(whole._fields) + list(got._fields) + list(got._over)
        asyncio.run(_same(got, whole, names))
    with engine.connect() as conn:
        assert kb.usable(rules_at(conn, now, NO_RULES)) is first, "the reads from at(3) on took the base"
        assert kb.usable(rules_at(conn, at(2), NO_RULES)) is None
    second = kb.advance(engine, NO_RULES)
    assert second.at > first.at
    again = kb.advance(engine, NO_RULES)
    assert again.at > second.at, "nothing committed since: the same fields, known to a later time"
    assert again.increments is second.increments
    second = again
    whole = _whole(engine, second.at)
    asyncio.run(_same(LedgerSnapshot(second.increments), whole, list(whole._fields) + list(second.increments.fields)))
    # The figure itself, from the events as listed: the rule counts e-commerce in CNY abroad
    # toward RMB; E1 and E2 are reversed, E3 is domestic: RMB = E4 + E5 + the in-flight
    # batch's 9.99 + c6 + c7.
    settled = asyncio.run(
        settled_amounts(
            known_snapshot(engine, now, NO_RULES),
            FxTable([]),
            {RMB: SettledQuery(RMB, "CNY", date(2020, 1, 1), date(2020, 12, 31))},
        )
    )
    listed = (Decimal("1.25"), Decimal("0.01"), Decimal("9.99"), Decimal("2.50"), Decimal("3.00"))
    assert settled[RMB].amounts.converted == sum(listed, Decimal(0))
    # A rule change after the base: reads after it cannot use the base (another rule set) and
    # count the whole ledger; the next advance rebuilds the base with the new rules.
    _record(state, NONE, datetime.now(UTC), "rebuild")
    changed = knowledge_barrier(engine)
    with engine.connect() as conn:
        assert kb.usable(rules_at(conn, changed, NO_RULES)) is None
    whole = _whole(engine, changed)
    got_snapshot = known_snapshot(engine, changed, NO_RULES)
    asyncio.run(_same(got_snapshot, whole, list(whole._fields)))
    third = kb.advance(engine, NO_RULES)
    assert third.rule_set_id != second.rule_set_id
