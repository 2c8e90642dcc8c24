"""dates: the strict YYYY-MM-DD parser and its memoised form for the topic decoder."""

from __future__ import annotations

from datetime import date

import pytest

from settlement_core.dates import DateFormatError, parse_iso_date, parse_iso_date_or_none

TEXTS = [
    "2020-02-29",
    "2021-02-29",
    "2020-13-01",
    "20200229",
    "2020-W09-6",
    "2020-02-29\n",
    "",
    "2020-2-9",
    "0001-01-01",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_memoised_form_is_the_parser_with_none_for_its_errors(text: str) -> None:
    try:
        expected: date | None = parse_iso_date(text)
    except DateFormatError:
        expected = None
    assert parse_iso_date_or_none(text) == expected
    assert parse_iso_date_or_none(text) == expected  # and again, from the memo


def test_examples() -> None:
    assert parse_iso_date_or_none("2020-02-29") == date(2020, 2, 29)
    assert parse_iso_date_or_none("2021-02-29") is None
