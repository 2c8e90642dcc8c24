"""The schedule generator is pure: same seed, same faults; lanes never overlap; every fault
ends before the clients stop; the menu is covered over a long campaign."""

from __future__ import annotations

import itertools
from collections import Counter

from tests.nemesis.schedule import HEAL_MARGIN_S, MENU, Action, generate, overlapping


def test_same_seed_same_schedule_and_another_seed_differs() -> None:
    assert generate(42, 10) == generate(42, 10)
    assert generate(42, 10).faults != generate(43, 10).faults


def test_every_fault_heals_before_the_end_and_lanes_never_overlap() -> None:
    plan = generate(7, 30)
    assert plan.faults
    by_lane: dict[str, list[tuple[float, float]]] = {}
    for fault in plan.faults:
        assert fault.at_s >= 10.0
        assert fault.until_s <= plan.end_s - HEAL_MARGIN_S + 1e-9
        by_lane.setdefault(fault.lane, []).append((fault.at_s, fault.until_s))
    for spans in by_lane.values():
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end


def test_a_thirty_minute_campaign_has_over_200_faults_of_every_class_some_overlapping() -> None:
    plan = generate(2026, 30, mean_gap_s=4.0)
    assert len(plan.faults) >= 200
    roles_actions = {(f.role, f.action) for f in plan.faults}
    assert {(t.role, a) for t in MENU for a in t.actions} <= roles_actions
    assert overlapping(plan) > 50


def test_at_most_one_promotion_and_no_postgres_node_fault_after_it() -> None:
    for seed in range(20):
        faults = generate(seed, 30).faults
        promotions = [f for f in faults if f.action is Action.PROMOTE]
        assert len(promotions) <= 1
        if promotions:
            assert not [f for f in faults if f.lane == "postgres" and f.at_s > promotions[0].at_s]
    assert not [f for f in generate(1, 30, promote=False).faults if f.action is Action.PROMOTE]


def test_network_faults_carry_their_toxic_attributes() -> None:
    counts = Counter(f.action for f in generate(3, 30).faults if f.lane.startswith("net:"))
    assert set(counts) == {Action.LATENCY, Action.BANDWIDTH, Action.TIMEOUT, Action.RESET_PEER, Action.PARTITION}
    for fault in generate(3, 30).faults:
        if fault.action is Action.LATENCY:
            assert {"latency", "jitter"} == set(dict(fault.params))
        if fault.action is Action.PARTITION:
            assert fault.params == ()
