"""categories: the check of an event's category list (shared by intake and decode)."""

from __future__ import annotations

import pytest

from settlement_core.categories import MAX_CATEGORIES, ListError, check_categories
from tests.plan_catalogue import CODES, KNOWN

UNKNOWN = "unknown category; one of " + ", ".join(sorted(CODES))


def test_codes_are_returned_sorted() -> None:
    assert check_categories(["offshore", "cross_border_rmb"], KNOWN) == (("cross_border_rmb", "offshore"), ())


def test_all_six_at_once() -> None:
    assert check_categories(list(CODES), KNOWN) == (tuple(sorted(CODES)), ())
    assert MAX_CATEGORIES == 6


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ([], [ListError(None, "categories must hold 1 to 6 distinct codes")]),
        ([*CODES, "offshore"], [ListError(None, "categories must hold 1 to 6 distinct codes")]),
        ("offshore", [ListError(None, "categories must be an array of category codes")]),
        (None, [ListError(None, "categories must be an array of category codes")]),
        (["offshore", "offshore"], [ListError(1, "duplicate category 'offshore'")]),
        (
            ["offshore", "retail", 3],
            [ListError(1, UNKNOWN), ListError(2, UNKNOWN)],
        ),
    ],
)
def test_problems_point_at_the_entry(value: object, errors: list[ListError]) -> None:
    codes, found = check_categories(value, KNOWN)
    assert codes == ()
    assert list(found) == errors
