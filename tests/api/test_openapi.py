"""The API document publishes the parsers' rules and the problem responses of each operation."""

from __future__ import annotations

from typing import Any

import pytest

from settlement_api.app import create_app
from settlement_api.openapi import build
from settlement_api.settings import ApiSettings
from settlement_core.catalogue import load_catalogue
from settlement_core.identifiers import EVENT_ID_PATTERN
from settlement_core.money import MINOR_UNITS
from tests.conftest import ROOT

CATALOGUE = load_catalogue(ROOT / "seeds" / "targets.yaml")


def document(public_mode: bool) -> dict[str, Any]:
    return build(create_app(), ApiSettings.model_construct(public_mode=public_mode), CATALOGUE)


def parameter(doc: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    matching: list[dict[str, Any]] = [p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == name]
    [found] = matching
    return found


def test_query_parameters_carry_the_parsers_sets() -> None:
    doc = document(public_mode=False)
    assert parameter(doc, "/v1/totals", "category")["schema"]["enum"] == sorted(CATALOGUE.codes)
    assert parameter(doc, "/v1/totals", "granularity")["schema"]["enum"] == ["day", "month", "year"]
    assert parameter(doc, "/v1/totals", "currency")["schema"]["enum"] == sorted(MINOR_UNITS)
    assert parameter(doc, "/v1/totals", "from")["schema"]["format"] == "date"
    assert parameter(doc, "/v1/progress", "as_of")["schema"]["format"] == "date"
    assert parameter(doc, "/v1/events/{event_id}", "event_id")["schema"]["pattern"] == EVENT_ID_PATTERN.pattern


def test_from_and_to_are_dates_only_where_the_route_parses_dates() -> None:
    """The log's consistency proof takes tree sizes named from/to (issue 29's contract)."""
    doc = document(public_mode=False)
    for name in ("from", "to"):
        assert parameter(doc, "/v1/totals", name)["schema"]["format"] == "date"
        sizes = parameter(doc, "/v1/log/consistency", name)
        assert (sizes["required"], sizes["schema"]["type"], sizes["schema"]["minimum"]) == (True, "integer", 0)
    answer = doc["components"]["schemas"]["ConsistencyOut"]
    assert answer["required"] == ["from", "to", "hashes"]


@pytest.mark.parametrize(
    ("path", "statuses"),
    [
        # 429 on every read: the API's rate limits (docs/security/api.md).
        ("/v1/targets", {"401", "429"}),
        ("/v1/progress", {"401", "422", "429"}),
        ("/v1/totals", {"401", "404", "422", "429"}),
        ("/v1/banks/{bank_id}/totals", {"401", "404", "422", "429"}),
        ("/v1/events/{event_id}", {"401", "404", "422", "429"}),
    ],
)
def test_every_operation_lists_its_problem_responses(path: str, statuses: set[str]) -> None:
    responses = document(public_mode=False)["paths"][path]["get"]["responses"]
    errors = {s for s in responses if s.startswith(("4", "5"))}
    assert errors == statuses
    for status in statuses:
        assert list(responses[status]["content"]) == ["application/problem+json"]


def test_public_mode_makes_the_market_wide_reads_anonymous() -> None:
    closed, open_ = document(public_mode=False), document(public_mode=True)
    for path in ("/v1/targets", "/v1/progress"):
        assert "security" not in closed["paths"][path]["get"]  # the document-wide bearer applies
        assert open_["paths"][path]["get"]["security"] == [{"bearer": []}, {}]
    assert "security" not in open_["paths"]["/v1/totals"]["get"]
    assert open_["security"] == [{"bearer": []}]
