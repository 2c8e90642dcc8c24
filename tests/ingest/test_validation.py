"""Pure tests of the event validation rules: exact pointers, messages and the result."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from settlement_core.categories import Direction
from settlement_core.events import SettlementEvent
from settlement_ingest.validation import COUNTRY_CODES, Rules, ValidationFailure, validate_event
from tests.plan_catalogue import CODES, KNOWN
from tests.plan_catalogue import RULES as COUNTING

RULES = Rules(
    max_amount=Decimal(10) ** 15,
    currencies=frozenset({"CNY", "USD", "EUR", "HKD", "JPY", "GBP", "SGD"}),
    earliest_value_date=date(2010, 1, 1),
    future_days=1,
    categories=KNOWN,
    counting=COUNTING,
)
TODAY = date(2026, 11, 30)


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "event_id": "EV-1",
        "category": "offshore",
        "amount": "1250.50",
        "currency": "USD",
        "value_date": "2026-11-02",
        "direction": "inbound",
        "counterparty_country": "HK",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not ...}


def errors_of(raw: object, pointer: str = "#") -> list[tuple[str, str]]:
    result = validate_event(raw, "BANK1", RULES, TODAY, pointer)
    assert isinstance(result, ValidationFailure), result
    return [(e.pointer, e.message) for e in result.errors]


def pointers(raw: object) -> list[str]:
    return [p for p, _ in errors_of(raw)]


def test_valid_event_becomes_a_settlement_event() -> None:
    result = validate_event(body(reverses="EV-0", uetr="EB6305C9-1F7F-49DE-AED0-16487C27B42D"), "BANK1", RULES, TODAY)
    assert result == SettlementEvent(
        bank_id="BANK1",
        event_id="EV-1",
        categories=("offshore",),
        amount=Decimal("1250.50"),
        currency="USD",
        value_date=date(2026, 11, 2),
        direction=Direction.INBOUND,
        counterparty_country="HK",
        reverses="EV-0",
        uetr=UUID("eb6305c9-1f7f-49de-aed0-16487c27b42d"),
    )


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"event_id": ""}, "#/event_id"),
        ({"event_id": "x" * 426}, "#/event_id"),
        ({"event_id": "a/b"}, "#/event_id"),
        ({"event_id": "has space"}, "#/event_id"),
        ({"event_id": 42}, "#/event_id"),
        ({"event_id": ...}, "#/event_id"),
        ({"category": "retail"}, "#/category"),
        ({"category": ...}, "#/category"),
        ({"category": ..., "categories": []}, "#/categories"),
        ({"category": ..., "categories": "offshore"}, "#/categories"),
        ({"category": ..., "categories": [*CODES, "offshore"]}, "#/categories"),
        ({"category": ..., "categories": ["offshore", "cross_border_rmb", "retail"]}, "#/categories/2"),
        ({"category": ..., "categories": ["offshore", "cross_border_rmb", "offshore"]}, "#/categories/2"),
        ({"category": ..., "categories": ["offshore", 7]}, "#/categories/1"),
        ({"categories": ["offshore"]}, "#/categories"),
        # The catalogue's refuse rule: offshore business is never in CNY.
        ({"currency": "CNY"}, "#/currency"),
        ({"amount": "0"}, "#/amount"),
        ({"amount": "0.00"}, "#/amount"),
        ({"amount": "-5"}, "#/amount"),
        ({"amount": "1e5"}, "#/amount"),
        ({"amount": " 10"}, "#/amount"),
        ({"amount": "10\n"}, "#/amount"),
        ({"amount": "12.345"}, "#/amount"),
        ({"amount": "1000000000000000.01"}, "#/amount"),
        ({"amount": "1000000000000001"}, "#/amount"),
        ({"amount": "12.5", "currency": "JPY"}, "#/amount"),
        ({"amount": True}, "#/amount"),
        ({"currency": "AUD"}, "#/currency"),
        ({"currency": "usd"}, "#/currency"),
        ({"currency": "XAU"}, "#/currency"),
        ({"value_date": "2009-12-31"}, "#/value_date"),
        ({"value_date": "2026-12-02"}, "#/value_date"),
        ({"value_date": "2026-02-30"}, "#/value_date"),
        ({"value_date": "20261102"}, "#/value_date"),
        ({"value_date": "2026-11-02T00:00:00"}, "#/value_date"),
        ({"direction": "sideways"}, "#/direction"),
        ({"direction": "INBOUND"}, "#/direction"),
        ({"counterparty_country": "XX"}, "#/counterparty_country"),
        ({"counterparty_country": "hk"}, "#/counterparty_country"),
        ({"counterparty_country": "HKG"}, "#/counterparty_country"),
        ({"counterparty_country": "UK"}, "#/counterparty_country"),
        ({"reverses": "not valid!"}, "#/reverses"),
        ({"reverses": "EV-1"}, "#/reverses"),
        ({"uetr": "not-a-uuid"}, "#/uetr"),
        ({"uetr": "eb6305c91f7f49deaed016487c27b42d"}, "#/uetr"),
        ({"bank_id": "OTHERBANK"}, "#/bank_id"),
        ({"memo": "hello"}, "#/memo"),
    ],
)
def test_each_rule_names_its_field(overrides: dict[str, Any], pointer: str) -> None:
    assert pointers(body(**overrides)) == [pointer]


def test_amount_as_json_number_tells_to_send_a_string() -> None:
    [(pointer, message)] = errors_of(body(amount=1250.5))
    assert pointer == "#/amount"
    assert "string" in message
    assert "not a JSON number" in message


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("1000000000000000", "CNY"), ("0.01", "CNY"), ("5", "JPY"), ("100.1", "EUR"), ("1000000000000000.00", "USD")],
)
def test_boundary_amounts_are_accepted(amount: str, currency: str) -> None:
    result = validate_event(body(amount=amount, currency=currency, category="cross_border_rmb"), "B", RULES, TODAY)
    assert isinstance(result, SettlementEvent)
    assert result.amount == Decimal(amount)


@pytest.mark.parametrize("value_date", ["2010-01-01", "2026-11-30", "2026-12-01"])
def test_value_date_window_is_inclusive(value_date: str) -> None:
    result = validate_event(body(value_date=value_date), "B", RULES, TODAY)
    assert isinstance(result, SettlementEvent)
    assert result.value_date == date.fromisoformat(value_date)


def test_all_errors_are_reported_at_once_with_the_batch_prefix() -> None:
    found = pointers({"event_id": "ok", "amount": 5, "currency": "XXX", "extra": 1})
    assert found == [
        "#/extra",
        "#/category",
        "#/value_date",
        "#/direction",
        "#/counterparty_country",
        "#/currency",
        "#/amount",
    ]
    prefixed = errors_of({"event_id": "ok"}, "#/events/7")
    assert prefixed[0][0] == "#/events/7/category"


def test_non_object_is_rejected_at_its_pointer() -> None:
    assert errors_of(["a"], "#/events/2") == [("#/events/2", "an event must be a JSON object")]


def test_invalid_keeps_the_event_id_when_readable() -> None:
    result = validate_event(body(amount="0"), "B", RULES, TODAY)
    assert isinstance(result, ValidationFailure)
    assert result.event_id == "EV-1"


def test_country_list_is_the_published_iso_3166_list() -> None:
    assert len(COUNTRY_CODES) == 249
    assert {"CN", "HK", "MO", "TW", "SG", "US", "DE", "GB"} <= COUNTRY_CODES
    assert "UK" not in COUNTRY_CODES
    assert "EU" not in COUNTRY_CODES


def test_canonical_body_makes_trailing_zero_variants_the_same_event() -> None:
    one = validate_event(body(amount="100.5"), "B", RULES, TODAY)
    two = validate_event(body(amount="100.50"), "B", RULES, TODAY)
    assert isinstance(one, SettlementEvent)
    assert isinstance(two, SettlementEvent)
    assert one.body_hash() == two.body_hash()


def test_categories_count_in_full_toward_each_and_are_a_sorted_set() -> None:
    result = validate_event(
        body(category=..., categories=["cross_border_rmb", "cross_border_ecommerce"], currency="CNY"), "B", RULES, TODAY
    )
    assert isinstance(result, SettlementEvent)
    assert result.categories == ("cross_border_ecommerce", "cross_border_rmb")
    same = validate_event(
        body(category=..., categories=["cross_border_ecommerce", "cross_border_rmb"], currency="CNY"), "B", RULES, TODAY
    )
    assert isinstance(same, SettlementEvent)
    assert same.body_hash() == result.body_hash()


def test_category_is_a_one_element_categories_list() -> None:
    single = validate_event(body(), "B", RULES, TODAY)
    listed = validate_event(body(category=..., categories=["offshore"]), "B", RULES, TODAY)
    assert isinstance(single, SettlementEvent)
    assert single == listed


def test_every_bad_entry_of_categories_has_its_own_pointer() -> None:
    raw = body(category=..., categories=["offshore", "retail", "offshore", "corporate_account"])
    assert errors_of(raw) == [
        ("#/categories/1", "unknown category; one of " + ", ".join(sorted(CODES))),
        ("#/categories/2", "duplicate category 'offshore'"),
    ]


def test_both_category_and_categories_is_one_error() -> None:
    assert errors_of(body(categories=["offshore"])) == [
        ("#/categories", "send either category or categories, not both")
    ]


def test_offshore_in_cny_is_refused_never_converted() -> None:
    [(pointer, message)] = errors_of(body(currency="CNY"))
    assert pointer == "#/currency"
    assert "freely convertible" in message
    # Offshore together with another category is refused the same way.
    assert pointers(body(category=..., categories=["offshore", "cross_border_rmb"], currency="CNY")) == ["#/currency"]
