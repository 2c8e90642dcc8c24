"""The client's offline rules (`--dry-run`) agree with the server's validator.

`contract.json` must equal what the server's constants give today, and on a corpus of good
and bad events both sides must find exactly the same invalid fields.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from settlement_client.rules import EventRules
from settlement_ingest.service import rules_from
from settlement_ingest.settings import IngestSettings
from settlement_ingest.validation import ValidationFailure, validate_event
from tests.client.contract_source import SHIPPED, expected
from tests.conftest import ROOT

TODAY = date(2026, 12, 2)
SERVER_RULES = rules_from(IngestSettings.model_construct(targets_file=ROOT / "seeds" / "targets.yaml"))
CLIENT_RULES = EventRules.shipped()


def test_shipped_contract_matches_the_server_constants() -> None:
    assert json.loads(SHIPPED.read_text()) == expected(), "run `make client-contract` and commit the result"


def good(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": "CQB-1",
        "category": "cross_border_rmb",
        "amount": "1250000.00",
        "currency": "CNY",
        "value_date": "2026-11-30",
        "direction": "outbound",
        "counterparty_country": "SG",
    }
    event.update(overrides)
    return {k: v for k, v in event.items() if v is not ...}


CORPUS: list[Any] = [
    good(),
    good(uetr="eb6305c9-1f7f-49de-aed0-16487c27b42d", reverses="CQB-0"),
    good(amount="1", currency="JPY"),
    good(amount="1.5", currency="JPY"),
    good(amount="0.001", currency="CNY"),
    good(amount="0"),
    good(amount="0.00"),
    good(amount="-1.00"),
    good(amount="1e5"),
    good(amount=" 1.00"),
    good(amount="1.00\n"),
    good(amount=100),
    good(amount=1.5),
    good(amount=True),
    good(amount=["1"]),
    good(amount="1000000000000000"),
    good(amount="1000000000000000.01"),
    good(currency="XXX"),
    good(currency="KWD", amount="1.000"),
    good(currency=None),
    good(currency=5),
    good(event_id=""),
    good(event_id="a" * 65),
    good(event_id="a b"),
    good(event_id="a\n"),
    good(event_id=7),
    good(event_id=...),
    good(category="crypto"),
    good(category=...),
    good(category=["offshore"]),
    good(value_date="2009-12-31"),
    good(value_date="2010-01-01"),
    good(value_date=(TODAY + timedelta(days=1)).isoformat()),
    good(value_date=(TODAY + timedelta(days=2)).isoformat()),
    good(value_date="2026-02-30"),
    good(value_date="20261130"),
    good(value_date="2026-11-30T00:00:00"),
    good(direction="sideways"),
    good(direction=None),
    good(counterparty_country="UK"),
    good(counterparty_country="sg"),
    good(counterparty_country=["SG"]),
    good(reverses=""),
    good(reverses="CQB-1"),
    good(reverses="bad id"),
    good(uetr="not-a-uuid"),
    good(uetr=None, reverses=None),
    good(bank_id="other"),
    good(extra="x", **{"a/b": 1}),
    # Corrections (settlement_core.corrections): the same fields refused for the same reasons.
    good(corrects="CQB-0", reason_code="WRONG_AMOUNT"),
    good(corrects="CQB-0", reason_code="OTHER", reason_text="booked twice at the branch, re-keyed"),
    good(reverses="CQB-0", reason_code="DUPLICATE"),
    good(corrects="CQB-0"),
    good(corrects="CQB-0", reason_code="NOPE"),
    good(corrects="CQB-0", reason_code="DUPLICATE"),
    good(corrects="CQB-0", reason_code="OTHER"),
    good(corrects="CQB-0", reason_code="OTHER", reason_text="  "),
    good(corrects="CQB-0", reason_code="OTHER", reason_text="two\nlines"),
    good(corrects="CQB-0", reason_code="OTHER", reason_text="x" * 501),
    good(corrects="CQB-0", reason_code="WRONG_DATE", reason_text=5),
    good(corrects="CQB-1", reason_code="WRONG_DATE"),
    good(corrects="bad id", reason_code="WRONG_DATE"),
    good(corrects="CQB-0", reverses="CQB-0", reason_code="WRONG_DATE"),
    good(reason_code="WRONG_AMOUNT"),
    good(reason_text="why"),
    good(reason_code=7, reverses="CQB-0"),
    {},
    [],
    "event",
    None,
    {"event_id": None, "amount": None},
]


@pytest.mark.parametrize("event", CORPUS, ids=[f"corpus-{i}" for i in range(len(CORPUS))])
def test_client_and_server_find_the_same_fields(event: Any) -> None:
    server = validate_event(event, "bank", SERVER_RULES, TODAY)
    client = CLIENT_RULES.check(event, TODAY)
    server_errors = {(e.pointer, e.message) for e in server.errors} if isinstance(server, ValidationFailure) else set()
    assert {(e.pointer, e.message) for e in client} == server_errors


def test_the_corpus_has_both_kinds() -> None:
    verdicts = [isinstance(validate_event(e, "bank", SERVER_RULES, TODAY), ValidationFailure) for e in CORPUS]
    assert verdicts.count(False) >= 5
    assert verdicts.count(True) >= 40


def test_currency_override_changes_the_accepted_set() -> None:
    rules = EventRules.shipped(frozenset({"CNY", "KWD"}))
    assert rules.check(good(currency="KWD", amount="1.000"), TODAY) == ()
    assert [e.pointer for e in rules.check(good(currency="USD"), TODAY)] == ["#/currency"]
    assert rules.max_amount == Decimal(10) ** 15
