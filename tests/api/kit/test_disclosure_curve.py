"""Secondary suppression of a cumulative curve (kit/disclosure.py protect_curve), pure.

The attack it stops: the series shows a window's months (or days), the running total after
each, and the window's total (/v1/progress). A month of one bank is withheld, yet the
running total after it minus the one before is that bank's month to the cent, and so is
the total minus the shown months. Every figure shown is an interval sum of the window's
cells (days), so what a reader can derive is exactly the linear span of those intervals;
the property below checks, with exact rational arithmetic, that no vector in that span is
carried only by cells of fewer than MIN_CONTRIBUTORS banks (a sum, or even a difference,
of one bank's days), for the day series and the month series shown together as the status
page shows them."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from settlement_api.kit.disclosure import NOBODY, Contributors, Disclosure, protect_curve

BANKS = ("a", "b", "c", "d", "e")
Vector = tuple[int, ...]


def of(*banks: str) -> Contributors:
    return Contributors(frozenset(banks))


def union(parts: Sequence[Contributors]) -> Contributors:
    found = NOBODY
    for part in parts:
        found = found | part
    return found


def interval(size: int, start: int, end: int) -> Vector:
    """Cells start..end-1 of a window of `size` cells."""
    return tuple(1 if start <= i < end else 0 for i in range(size))


def published(rule: Disclosure, cells: Sequence[Sequence[Contributors]]) -> list[Vector]:
    """Every figure a reader gets of the day series and the month series of one table, as
    the cells it adds up (the total, shown cells, shown running totals)."""
    groups = [union(c) for c in cells]
    total = union(groups)
    starts = [0]
    for group_cells in cells:
        starts.append(starts[-1] + len(group_cells))
    size = starts[-1]
    shown: list[Vector] = []
    day = protect_curve(rule, total, groups, cells)
    month = protect_curve(rule, total, groups, [[g] for g in groups])
    assert day.total_hidden == month.total_hidden
    if not day.total_hidden:
        shown.append(interval(size, 0, size))
    for g, group_cells in enumerate(cells):
        for i in range(len(group_cells)):
            cell = starts[g] + i
            if i not in day.cells[g]:
                shown.append(interval(size, cell, cell + 1))
            if i in day.cumulative[g]:
                shown.append(interval(size, 0, cell + 1))
        if 0 not in month.cells[g]:
            shown.append(interval(size, starts[g], starts[g + 1]))
        if 0 in month.cumulative[g]:
            shown.append(interval(size, 0, starts[g + 1]))
    return shown


def rank(rows: Sequence[Sequence[int]]) -> int:
    """Exact rank over the rationals (Gaussian elimination)."""
    matrix = [[Fraction(x) for x in row] for row in rows]
    found = 0
    width = len(matrix[0]) if matrix else 0
    for column in range(width):
        pivot = next((r for r in range(found, len(matrix)) if matrix[r][column] != 0), None)
        if pivot is None:
            continue
        matrix[found], matrix[pivot] = matrix[pivot], matrix[found]
        for r in range(len(matrix)):
            if r != found and matrix[r][column] != 0:
                factor = matrix[r][column] / matrix[found][column]
                matrix[r] = [x - factor * y for x, y in zip(matrix[r], matrix[found], strict=True)]
        found += 1
    return found


def leaks(rule: Disclosure, cells: Sequence[Sequence[Contributors]], shown: Sequence[Vector]) -> list[frozenset[str]]:
    """The bank sets of fewer than MIN_CONTRIBUTORS banks some of whose business a reader
    can derive: a non-zero vector of the span of `shown` carried only by cells (non-empty
    ones: an empty cell is 0 and reveals nobody) whose banks are all in the set."""
    flat = [cell for group_cells in cells for cell in group_cells]
    nonempty = [i for i, cell in enumerate(flat) if cell.count]
    rows = [tuple(v[i] for i in nonempty) for v in shown]
    base = rank(rows)
    found = []
    for size in range(1, rule.min_contributors):
        for banks in combinations(BANKS, size):
            carried = [k for k, i in enumerate(nonempty) if flat[i].banks <= set(banks)]
            units = [tuple(1 if k == c else 0 for k in range(len(nonempty))) for c in carried]
            if carried and rank([*rows, *units]) < base + len(carried):
                found.append(frozenset(banks))
    return found


cell = st.frozensets(st.sampled_from(BANKS), max_size=3).map(lambda banks: Contributors(banks))
tables = st.lists(st.lists(cell, min_size=1, max_size=4), min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(tables, st.sampled_from([2, 3]))
def test_no_figure_of_fewer_than_min_contributors_can_be_derived(cells: list[list[Contributors]], least: int) -> None:
    rule = Disclosure(least, True)
    assert leaks(rule, cells, published(rule, cells)) == []


# The attack of tests/security/test_api_disclosure_series.py: January, February and April
# have banks a, b, c; March has d alone.
ATTACK = [[of("a", "b", "c")], [of("a", "b", "c")], [of("d")], [of("a", "b", "c")]]
PUBLIC = Disclosure(3, True)


def test_the_check_finds_the_leak_of_the_per_cell_rule_alone() -> None:
    """The property is not vacuous: the rule as it was (thin cells withheld, every running
    total of 3 banks or more shown) publishes March as a difference, and `leaks` says so."""
    groups = [union(c) for c in ATTACK]
    shown = [interval(4, 0, 4)]
    running = NOBODY
    for g, group in enumerate(groups):
        running = running | group
        if not PUBLIC.hides(group.count):
            shown.append(interval(4, g, g + 1))
        if not PUBLIC.hides(running.count):
            shown.append(interval(4, 0, g + 1))
    found = leaks(PUBLIC, ATTACK, shown)
    assert frozenset("d") in found
    assert all("d" in banks for banks in found)


def test_a_thin_month_takes_a_second_one_and_the_running_totals_between_them() -> None:
    groups = [union(c) for c in ATTACK]
    curve = protect_curve(PUBLIC, union(groups), groups, ATTACK)
    assert curve.groups.primary == {2}
    assert curve.groups.secondary == {0}  # as the SDMX export withholds it (protect_parts)
    assert not curve.total_hidden
    # No running total after January or February (either minus the one after March would
    # give March, or January alone plus the shown February would isolate it); after March
    # it is the total minus April, January + February + March: 4 banks.
    assert curve.cumulative == (frozenset(), frozenset(), frozenset({0}), frozenset({0}))
    assert curve.cells == (frozenset({0}), frozenset(), frozenset({0}), frozenset())
    assert leaks(PUBLIC, ATTACK, published(PUBLIC, ATTACK)) == []


def test_running_totals_stay_where_nothing_is_withheld_before_them() -> None:
    cells = [[of("a", "b", "c")], [of("b", "c", "d")], [of("d")], [of("a", "e")]]
    groups = [union(c) for c in cells]
    curve = protect_curve(PUBLIC, union(groups), groups, cells)
    # March (d) takes April (a, e) with it; January and February stay, with their totals.
    assert curve.groups.primary == {2, 3}
    assert curve.cumulative[:2] == (frozenset({0}), frozenset({0}))
    assert curve.cumulative[3] == frozenset({0})  # the total itself


def test_days_of_a_shown_month_are_protected_against_the_month() -> None:
    # One month of 4 banks, a day of d alone and days of three banks: withholding d's day
    # alone would leave it as the month minus the shown days.
    cells = [[of("a", "b", "c"), of("d"), of("a", "b", "c")]]
    groups = [union(c) for c in cells]
    curve = protect_curve(PUBLIC, union(groups), groups, cells)
    assert len(curve.cells[0]) == 2
    assert 1 in curve.cells[0]
    assert leaks(PUBLIC, cells, published(PUBLIC, cells)) == []


def test_operators_see_every_cell_and_running_total() -> None:
    groups = [union(c) for c in ATTACK]
    curve = protect_curve(Disclosure.unrestricted(), union(groups), groups, ATTACK)
    assert curve.cells == (frozenset(),) * 4
    assert curve.cumulative == (frozenset({0}),) * 4
