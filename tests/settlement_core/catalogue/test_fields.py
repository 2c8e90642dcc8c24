"""catalogue.fields: each field type refuses a bad value with the operator's message at its path."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from settlement_core.catalogue import parse_catalogue
from tests.settlement_core.catalogue.samples import error_of


@pytest.mark.parametrize("currency", ["XYZ", "cny", "RMB", "CNY "])
def test_bad_currency(document: dict[str, Any], currency: str) -> None:
    document["targets"][3]["currency"] = currency
    assert error_of(document).startswith("targets[3].currency: unknown currency")


@pytest.mark.parametrize("currency", [156, None, "", ["CNY"]])
def test_currency_of_wrong_type(document: dict[str, Any], currency: Any) -> None:
    document["targets"][3]["currency"] = currency
    assert error_of(document).startswith("targets[3].currency:")


@pytest.mark.parametrize("code", ["Offshore", "1x", "a-b", "", "x" * 33, 7])
def test_category_code_syntax(document: dict[str, Any], code: Any) -> None:
    document["categories"][0]["code"] = code
    assert error_of(document).startswith("categories[0].code:")


@pytest.mark.parametrize("period", ["", "20 20", None, ["2020"], "2020/21"])
def test_bad_period(document: dict[str, Any], period: Any) -> None:
    document["targets"][0]["period"] = period
    assert error_of(document).startswith("targets[0].period:")


def test_a_yaml_number_period_is_its_label(document: dict[str, Any]) -> None:
    document["targets"][0]["period"] = 2020
    assert parse_catalogue(document).targets[0].period == "2020"


def test_bad_home_country(document: dict[str, Any]) -> None:
    document["home_country"] = "China"
    assert error_of(document).startswith("home_country:")


@pytest.mark.parametrize(
    "amount",
    [0, -1, 6e11, 1.5, "600000000000", True, None, [1]],
)
def test_amount_must_be_a_positive_integer(document: dict[str, Any], amount: Any) -> None:
    document["targets"][0]["amount"] = amount
    assert error_of(document) == "targets[0].amount: must be a positive integer"


@pytest.mark.parametrize("field", ["display", "source"])
@pytest.mark.parametrize("value", ["", "   ", 1, None, ["x"]])
def test_text_fields_must_be_non_empty_strings(document: dict[str, Any], field: str, value: Any) -> None:
    document["targets"][0][field] = value
    assert error_of(document) == f"targets[0].{field}: must be a non-empty string"


@pytest.mark.parametrize("field", ["name_zh", "name_en"])
@pytest.mark.parametrize("value", ["", "   ", 1, None, ["x"]])
def test_category_names_must_be_non_empty_strings(document: dict[str, Any], field: str, value: Any) -> None:
    document["categories"][0][field] = value
    assert error_of(document) == f"categories[0].{field}: must be a non-empty string"


@pytest.mark.parametrize(
    "value",
    [
        "2020-13-01",
        "2020-02-30",
        "2020/01/01",
        "20200101",
        "2020-W01-1",
        "01-01-2020",
        "2020-1-1",
        "",
        None,
        20200101,
        2020,
        [2020, 1, 1],
        datetime(2020, 1, 1, 10, 0),
    ],
)
@pytest.mark.parametrize("bound", ["start", "end"])
def test_bad_date(document: dict[str, Any], bound: str, value: Any) -> None:
    document["targets"][0]["window"][bound] = value
    assert error_of(document) == f"targets[0].window.{bound}: must be a date YYYY-MM-DD"


def test_quoted_date_string_is_accepted(document: dict[str, Any]) -> None:
    document["targets"][0]["window"] = {"start": "2020-01-01", "end": "2020-12-31"}
    assert parse_catalogue(document).targets[0].window_start == date(2020, 1, 1)


def test_end_before_start(document: dict[str, Any]) -> None:
    document["targets"][0]["window"] = {"start": date(2020, 2, 1), "end": date(2020, 1, 31)}
    assert error_of(document) == "targets[0].window.end: before window.start"


@pytest.mark.parametrize("window", ["2020", None, [date(2020, 1, 1), date(2020, 12, 31)]])
def test_window_must_be_a_mapping(document: dict[str, Any], window: Any) -> None:
    document["targets"][0]["window"] = window
    assert error_of(document).startswith("targets[0].window:")
