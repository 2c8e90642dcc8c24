"""Low finding: huge integers, exponents and Unicode digits in amounts answered 500.

Every edge amount must answer 422 with the field's pointer on the JSON, batch and ISO 20022
paths, never 500. On the starting code a JSON number of 5,000 digits made json.loads raise
ValueError (Python's 4,300-digit int limit), which surfaced as 500 and reset the connection.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import ServiceRunner
from tests.security.intake_support import pacs008, post_retrying
from tests.support.intake import Bank, IngestService, event, start_ingest

pytestmark = pytest.mark.integration

HUGE = "1" + "0" * 5000

# Raw JSON text of the amount member.
JSON_AMOUNTS = {
    "huge integer number": HUGE,
    "huge integer string": f'"{HUGE}"',
    "huge float number": HUGE + ".5",
    "exponent number": "1e3",
    "exponent string": '"1E+3"',
    "lower exponent string": '"1e3"',
    "plain number": "1250.5",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "Arabic-Indic digits": '"\u0661\u0662\u0663"',
    "fullwidth digits": '"\uff11\uff12\uff13"',
    "fullwidth digits escaped": '"\\uff11\\uff12\\uff13"',
    "Devanagari with point": '"\u0967\u0968.\u0969\u0966"',
}

ISO_AMOUNTS = {
    "huge integer": HUGE,
    "exponent": "1E+3",
    "lower exponent": "1e3",
    "Arabic-Indic digits": "\u0661\u0662\u0663",
    "fullwidth digits": "\uff11\uff12\uff13",
    "fullwidth with point": "\uff11\uff12\uff13.\uff10\uff10",
}


@pytest.fixture(scope="module")
def ingest(isolated_env: dict[str, str], services: ServiceRunner) -> IngestService:
    return start_ingest(isolated_env, services)


@pytest.fixture(scope="module")
def bank(ingest: IngestService) -> Bank:
    return ingest.add_bank("SECAMT", "--bic", "CQRCCNBJ")


def _event_text(amount: str) -> str:
    fields = event(amount="@AMOUNT@")
    return json.dumps(fields).replace('"@AMOUNT@"', amount)


def _assert_amount_problem(problem: dict[str, Any], pointer: str) -> None:
    assert problem["status"] == 422, problem
    assert pointer in [e["pointer"] for e in problem["errors"]], problem


@pytest.mark.parametrize("amount", JSON_AMOUNTS.values(), ids=JSON_AMOUNTS.keys())
def test_json_event(ingest: IngestService, bank: Bank, amount: str) -> None:
    with httpx.Client(base_url=ingest.url, timeout=30) as client:
        response = client.post(
            "/v1/events",
            content=_event_text(amount).encode(),
            headers={**bank.auth, "Content-Type": "application/json"},
        )
    assert response.status_code == 422, response.text
    _assert_amount_problem(response.json(), "#/amount")
    assert len(response.content) < 4_000  # the 5,000 digits are not echoed


@pytest.mark.parametrize("amount", JSON_AMOUNTS.values(), ids=JSON_AMOUNTS.keys())
def test_batch_item(ingest: IngestService, bank: Bank, amount: str) -> None:
    good = [json.dumps(event()) for _ in range(3)]
    body = '{"events": [' + ",".join([*good, _event_text(amount)]) + "]}"
    with httpx.Client(base_url=ingest.url, timeout=30) as client:
        response = post_retrying(
            client,
            "/v1/events/batch",
            content=body.encode(),
            headers={**bank.auth, "Content-Type": "application/json"},
        )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted"] * 3 + ["rejected"]
    _assert_amount_problem(results[3]["problem"], "#/events/3/amount")


@pytest.mark.parametrize("amount", ISO_AMOUNTS.values(), ids=ISO_AMOUNTS.keys())
def test_iso_transaction(ingest: IngestService, bank: Bank, amount: str) -> None:
    message = pacs008(1, amount=amount, first=abs(hash(amount)) % 10**9)
    with httpx.Client(base_url=ingest.url, timeout=30) as client:
        response = client.post(
            "/v1/iso20022",
            params={"category": "cross_border_rmb"},
            content=message,
            headers={**bank.auth, "Content-Type": "application/xml"},
        )
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["status"] == "rejected"
    _assert_amount_problem(result["problem"], "#/amount")
