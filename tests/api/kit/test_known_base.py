"""The pure parts of the in-memory known_at base (kit/known_at.py: from_base, first_seen,
buckets.seen_of), property-tested: a base at one time plus or minus the effects between it
and a read time gives exactly the store of the effects known at the read time, counted at
once, fields and seen members alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from settlement_api.kit.known_at import Base, EffectGroup, LedgerSnapshot, first_seen, from_base, increments_of
from settlement_core.buckets import Effect, increments_for, seen_of
from tests.plan_catalogue import CODES, RULES

T0 = datetime(2026, 12, 1, tzinfo=UTC)
COUNTRIES = ("CN", "SG", "XX")  # home, foreign, the representative foreign code
CURRENCIES = ("CNY", "USD", "EUR")

groups_st = st.lists(
    st.builds(
        EffectGroup,
        bank_id=st.sampled_from(("b1", "b2", "b3")),
        categories=st.lists(st.sampled_from(CODES), min_size=1, max_size=2, unique=True).map(
            lambda c: tuple(sorted(c))
        ),
        currency=st.sampled_from(CURRENCIES),
        value_date=st.dates(date(2019, 12, 25), date(2021, 1, 5)),
        direction=st.sampled_from(("inbound", "outbound")),
        country=st.sampled_from(COUNTRIES),
        added=st.booleans(),
        amount_minor=st.integers(0, 10**12),
        events=st.just(1),
        first_at=st.integers(0, 100).map(lambda s: T0 + timedelta(seconds=s)),
    ).map(lambda g: g if g.added or not g.amount_minor else _negated(g)),
    max_size=40,
)


def _negated(g: EffectGroup) -> EffectGroup:
    return EffectGroup(
        g.bank_id, g.categories, g.currency, g.value_date, g.direction, g.country, False, -g.amount_minor, 1, g.first_at
    )


def _store(snapshot: LedgerSnapshot, names: list[str]) -> tuple[dict[str, int], object]:
    async def read() -> tuple[dict[str, int], object]:
        return await snapshot.sum_fields(names), await snapshot.seen()

    return asyncio.run(read())


@settings(max_examples=150, deadline=None)
@given(groups_st, st.integers(0, 100), st.integers(-1, 101))
def test_a_base_and_the_effects_between_give_the_count_at_the_read_time(
    groups: list[EffectGroup], base_second: int, read_second: int
) -> None:
    base_at, read_at = T0 + timedelta(seconds=base_second), T0 + timedelta(seconds=read_second)
    known = [g for g in groups if g.first_at <= base_at]
    base = Base(base_at, None, "CN", increments_of(known, RULES), first_seen(known, RULES))
    low, high = min(base_at, read_at), max(base_at, read_at)
    between = increments_of([g for g in groups if low < g.first_at <= high], RULES)
    got = from_base(base, read_at, between)
    whole = increments_of([g for g in groups if g.first_at <= read_at], RULES)
    names = sorted({*whole.fields, *base.increments.fields, *between.fields})
    assert _store(got, names) == _store(LedgerSnapshot(whole), names)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True),
    st.sampled_from(CURRENCIES),
    st.sampled_from((*COUNTRIES, "ZZ")),
    st.sampled_from(("inbound", "outbound")),
    st.integers(-5, 5),
)
def test_seen_of_is_what_increments_for_adds(
    categories: list[str], currency: str, country: str, direction: str, amount: int
) -> None:
    declared = tuple(sorted(categories))
    effect = Effect(0, 0, "b1", "e", declared, date(2020, 1, 1), currency, direction, country, amount, T0)
    assert seen_of("b1", declared, currency, country, direction, RULES) == increments_for([effect], RULES).seen
