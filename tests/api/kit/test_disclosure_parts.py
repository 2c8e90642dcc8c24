"""Secondary suppression of a total and its parts (kit/disclosure.py protect_parts).

The attack it stops: a table publishes a year and its months; one month has a single bank,
so it is withheld, but the year minus the eleven shown months is that bank's month to the
cent. After protect_parts, subtraction recovers only the sum of the withheld parts, and that
sum covers MIN_CONTRIBUTORS banks or more: a publishable figure."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from settlement_api.kit.disclosure import Contributors, Disclosure, protect_parts

PUBLIC = Disclosure(3, True)


def of(*banks: str) -> Contributors:
    return Contributors(frozenset(banks))


def union(parts: list[Contributors]) -> Contributors:
    return Contributors(frozenset().union(*(p.banks for p in parts)))


def test_one_thin_month_takes_a_second_one_with_it() -> None:
    parts = [of("a", "b", "c"), of("a", "b", "c", "d"), of("d")]
    flags = protect_parts(PUBLIC, union(parts), parts)
    assert flags.primary == {2}
    # Month 0 adds a, b, c to d: the withheld sum then covers 4 banks.
    assert flags.secondary == {0}
    assert not flags.total_hidden


def test_thin_months_that_together_cover_enough_banks_need_nothing_more() -> None:
    parts = [of("a"), of("b"), of("c", "d"), of("a", "b", "c")]
    flags = protect_parts(PUBLIC, union(parts), parts)
    assert flags.primary == {0, 1, 2}
    assert flags.secondary == frozenset()


def test_two_thin_months_of_the_same_two_banks_take_a_third() -> None:
    # Withholding both would still let a and b learn their combined month minus their own.
    parts = [of("a", "b"), of("a"), of("a", "b", "c"), of("c", "d", "e")]
    flags = protect_parts(PUBLIC, union(parts), parts)
    assert flags.primary == {0, 1}
    assert flags.secondary == {3}  # adds c, d, e (three new banks) rather than c alone


def test_a_thin_total_hides_itself_and_no_secondary_is_needed() -> None:
    parts = [of("a"), of("b"), of()]
    flags = protect_parts(PUBLIC, union(parts), parts)
    assert flags.total_hidden
    assert flags.primary == {0, 1}
    assert flags.secondary == frozenset()


def test_operators_get_no_flags_and_empty_parts_reveal_nobody() -> None:
    parts = [of("a"), of(), of("a", "b", "c")]
    assert protect_parts(Disclosure.unrestricted(), union(parts), parts).primary == frozenset()
    flags = protect_parts(PUBLIC, union(parts), parts)
    assert 1 not in flags.primary | flags.secondary  # 0, known to be 0, hides nothing


BANKS = ("a", "b", "c", "d", "e", "f")
month = st.frozensets(st.sampled_from(BANKS), max_size=4).map(Contributors)


@settings(max_examples=400, deadline=None)
@given(st.lists(month, min_size=1, max_size=12), st.integers(min_value=2, max_value=5))
def test_subtraction_never_recovers_a_thin_figure(parts: list[Contributors], minimum: int) -> None:
    """Whatever the months, what a reader can compute from the published cells (the total
    minus the shown parts = the sum of the withheld parts) is never a figure of fewer than
    MIN_CONTRIBUTORS banks, and never a single withheld part (which one equation would give)."""
    rule = Disclosure(minimum, True)
    flags = protect_parts(rule, union(parts), parts)
    withheld = [i for i in range(len(parts)) if flags.hidden(i)]
    for i, part in enumerate(parts):
        if rule.hides(part.count):
            assert i in flags.primary
    if flags.total_hidden:
        assert rule.hides(union(parts).count)
        return
    if withheld:
        assert len(withheld) >= 2
        recovered = union([parts[i] for i in withheld])
        assert not rule.hides(recovered.count), (withheld, recovered)
    assert all(parts[i].count > 0 for i in flags.secondary)
