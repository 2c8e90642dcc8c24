"""The published event schema states the validator's rules: checked against `validate_event`."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import jsonschema  # type: ignore[import-untyped]  # no stubs in the lock; a test-only use
import pytest
from fastapi import FastAPI

from settlement_ingest.openapi import amount_pattern, build, date_range_pattern, event_schema
from settlement_ingest.routes import router
from settlement_ingest.service import rules_from
from settlement_ingest.settings import IngestSettings
from settlement_ingest.validation import ValidationFailure, validate_event
from tests.conftest import ROOT

RULES = rules_from(IngestSettings.model_construct(targets_file=ROOT / "seeds" / "targets.yaml"))
TODAY = date(2026, 12, 2)


def test_date_pattern_matches_exactly_the_window() -> None:
    first, last = date(2010, 1, 1), TODAY + timedelta(days=1)
    pattern = re.compile(date_range_pattern(first, last))
    day = date(2009, 6, 1)
    while day < date(2027, 6, 1):
        assert bool(pattern.fullmatch(day.isoformat())) == (first <= day <= last), day
        day += timedelta(days=1)
    for text in ("2023-02-29", "2020-13-01", "2020-00-10", "2020-01-00", "2020-1-01", "20200101"):
        assert not pattern.fullmatch(text)


@pytest.mark.parametrize(
    "text",
    [
        "0",
        "0.0",
        "0.00",
        "0.01",
        "0.1",
        "0.10",
        "0.001",
        "1",
        "01",
        "1.5",
        "1.55",
        "1.555",
        "-1",
        "1e3",
        "1.",
        "999999999999999.99",
        "1000000000000000",
        "1000000000000000.00",
        "1000000000000000.01",
        "10000000000000000",
    ],
)
@pytest.mark.parametrize("currency", ["CNY", "JPY"])
def test_amount_pattern_agrees_with_the_validator(text: str, currency: str) -> None:
    digits = 0 if currency == "JPY" else 2
    base = {
        "event_id": "E1",
        "category": "factor_market",
        "currency": currency,
        "value_date": "2026-11-30",
        "direction": "inbound",
        "counterparty_country": "SG",
    }
    valid = not isinstance(validate_event({**base, "amount": text}, "b", RULES, TODAY), ValidationFailure)
    assert bool(re.fullmatch(amount_pattern(Decimal(10) ** 15, digits), text)) == valid


def test_event_schema_carries_the_constants() -> None:
    app = FastAPI(title="t", version="1")
    app.include_router(router)
    doc = build(app, RULES, TODAY, 1000)
    event = doc["components"]["schemas"]["EventIn"]
    props = event["properties"]
    assert props["currency"]["enum"] == sorted(RULES.currencies)
    assert "GB" in props["counterparty_country"]["enum"]
    assert "UK" not in props["counterparty_country"]["enum"]
    [category] = [b for b in props["category"].get("anyOf", [props["category"]]) if b.get("type") == "string"]
    assert category["enum"] == sorted(RULES.categories)
    assert re.fullmatch(props["value_date"]["pattern"], "2026-12-03")
    assert not re.fullmatch(props["value_date"]["pattern"], "2026-12-04")
    [jpy] = [clause for clause in event["allOf"] if "currency" in clause.get("if", {}).get("properties", {})]
    assert jpy["if"]["properties"]["currency"]["enum"] == ["JPY"]
    [offshore_cny] = [clause for clause in event["allOf"] if "refused by rule" in clause.get("description", "")]
    assert "offshore_is_foreign_currency" in offshore_cny["description"]
    assert doc["components"]["schemas"]["BatchIn"]["properties"]["events"]["maxItems"] == 1000


def test_the_document_states_the_rules_between_a_corrections_fields() -> None:
    """Validated with jsonschema against the document itself, beside what intake answers
    (tests/api/ledger/test_corrections_stack.py): schemathesis found a body with both
    `reverses` and `corrects` the document allowed, and a CNY event with `categories: null`
    it refused as offshore."""
    assert RULES.reasons.codes  # seeds/correction_reasons.yaml beside the catalogue
    app = FastAPI(title="t", version="1")
    app.include_router(router)
    doc = build(app, RULES, TODAY, 1000)
    validator = jsonschema.Draft202012Validator(
        {"$ref": "#/components/schemas/EventIn", "components": doc["components"]}
    )
    base = {
        "event_id": "E-1",
        "category": "cross_border_rmb",
        "amount": "10.00",
        "currency": "CNY",
        "value_date": TODAY.isoformat(),
        "direction": "outbound",
        "counterparty_country": "SG",
    }
    valid = [
        {**base, "categories": None, "reverses": None, "corrects": None, "reason_code": None},
        {**base, "corrects": "E-0", "reason_code": "WRONG_AMOUNT"},
        {**base, "corrects": "E-0", "reason_code": "OTHER", "reason_text": "fee booked twice"},
        {**base, "reverses": "E-0", "reason_code": "DUPLICATE"},
        {**base, "reverses": "E-0"},
    ]
    invalid = [
        {**base, "reverses": "E-0", "corrects": "E-9", "reason_code": "WRONG_AMOUNT"},
        {**base, "corrects": "E-0"},
        {**base, "corrects": "E-0", "reason_code": "DUPLICATE"},
        {**base, "corrects": "E-0", "reason_code": "OTHER"},
        {**base, "reason_code": "WRONG_AMOUNT"},
        {**base, "reverses": "E-0", "reason_text": "why"},
        {**base, "category": "offshore"},
    ]
    assert [validator.is_valid(b) for b in valid] == [True] * len(valid)
    assert [validator.is_valid(b) for b in invalid] == [False] * len(invalid)
    # The intake validator agrees on every one of them.
    assert [isinstance(validate_event(b, "b", RULES, TODAY), ValidationFailure) for b in valid + invalid] == [
        False
    ] * len(valid) + [True] * len(invalid)


def test_categories_when_the_model_has_them_is_exclusive_with_category() -> None:
    base = {
        "type": "object",
        "properties": {
            "category": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "categories": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
            "amount": {"type": "string"},
        },
        "required": ["amount"],
    }
    schema = event_schema(base, RULES, TODAY)
    [array] = [b for b in schema["properties"]["categories"]["anyOf"] if b.get("type") == "array"]
    assert array["items"]["enum"] == sorted(RULES.categories)
    assert (array["uniqueItems"], array["minItems"], array["maxItems"]) == (True, 1, 6)
    [one_of] = [clause["oneOf"] for clause in schema["allOf"] if "oneOf" in clause]
    assert [branch["required"] for branch in one_of] == [["category"], ["categories"]]
    # null is absent for the validator, so a branch needs a value of the field's type
    assert [branch["properties"] for branch in one_of] == [
        {"category": {"type": "string"}},
        {"categories": {"type": "array"}},
    ]
