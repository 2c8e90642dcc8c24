"""catalogue.fields: each field type refuses a bad value with the operator's message at its path."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from settlement_core.catalogue import TargetsFileError, parse_catalogue
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


# ------------------------------------------------- where the pydantic fields differ from the
# hand-written parser they replaced: each case names what the old one did.


def test_a_number_is_not_a_purpose_code(document: dict[str, Any]) -> None:
    # The old parser read [1234] as the code "1234"; the fields are strict now.
    document["categories"][1]["iso20022"]["purposes"] = ["ECPG", 1234]
    assert error_of(document) == "categories[1].iso20022.purposes: not an ISO 20022 purpose code '1234'"


@pytest.mark.parametrize("item", [["CNY"], {"a": 1}])
def test_a_list_or_mapping_in_a_currency_list_is_named_not_a_crash(document: dict[str, Any], item: Any) -> None:
    # The old parser raised TypeError (unhashable) here instead of naming the field.
    document["categories"][0]["rules"][0]["when"]["currencies"] = ["CNY", item]
    assert error_of(document) == f"categories[0].rules[0].when.currencies: unknown currency {str(item)!r}"


@pytest.mark.parametrize(
    ("where", "name"), [("when", "currencies"), ("iso20022", "currencies"), ("iso20022", "purposes")]
)
def test_an_empty_code_list_must_not_be_empty(document: dict[str, Any], where: str, name: str) -> None:
    # Was "unknown currency None" / "not an ISO 20022 purpose code None".
    category = document["categories"][0]
    (category["rules"][0]["when"] if where == "when" else category["iso20022"])[name] = []
    assert error_of(document).endswith(f"{where}.{name}: must not be empty")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("currencies", "must be a list"),
        ("counterparty", "must be foreign or domestic"),
        ("direction", "must be inbound or outbound"),
    ],
)
def test_a_condition_written_without_a_value_is_refused(document: dict[str, Any], key: str, message: str) -> None:
    # `currencies:` with the list forgotten must not make a rule match every currency.
    document["categories"][0]["rules"][0]["when"][key] = None
    assert error_of(document) == f"categories[0].rules[0].when.{key}: {message}"


def test_an_iso20022_key_without_a_value_is_refused(document: dict[str, Any]) -> None:
    document["categories"][0]["iso20022"] = None
    assert error_of(document) == "categories[0].iso20022: must be a mapping"


def test_a_null_note_or_account_prefix_means_none(document: dict[str, Any]) -> None:
    document["references"][0]["note"] = None
    document["categories"][3]["iso20022"] = {"account_prefix": "osa", "currencies": None}
    with pytest.raises(TargetsFileError, match=r"categories\[3\]\.iso20022\.currencies: must be a list"):
        parse_catalogue(document)
    document["categories"][3]["iso20022"] = {"account_prefix": "osa"}
    catalogue = parse_catalogue(document)
    assert catalogue.references[0].note is None
    assert {s.category: s.account_prefix for s in catalogue.iso_signals}["offshore"] == "OSA"


def test_a_signal_of_a_null_prefix_alone_is_no_signal(document: dict[str, Any]) -> None:
    # The old parser took {account_prefix: null} as a signal with no condition at all,
    # which would have classified every transaction into the category.
    document["categories"][3]["iso20022"] = {"account_prefix": None}
    assert error_of(document) == "categories[3].iso20022: needs purposes, account_prefix or currencies"


def test_braces_in_a_value_are_quoted_as_written(document: dict[str, Any]) -> None:
    document["targets"][0]["code"] = "{value}"
    assert error_of(document) == "targets[0].code: unknown category '{value}'"
    document["targets"][0]["code"] = {"value": 1}
    assert error_of(document) == "targets[0].code: unknown category {'value': 1}"
