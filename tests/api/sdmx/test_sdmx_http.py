"""The SDMX routes' contract on real PostgreSQL and Redis (the app in-process,
tests/api/inprocess.py; state written as the aggregator writes it): who may read, the
problem+json answers to bad input (never a 500), the period filter, and the structure
artefacts, each read back with pysdmx."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import httpx
import pytest
from pysdmx.io import read_sdmx

from tests.api.inprocess import api_client
from tests.api.ledger_state import Event, LedgerState
from tests.api.sdmx.sdmx_reading import read_back

pytestmark = pytest.mark.integration

DATA = "/v1/sdmx/data/SETTLEMENT_PROGRESS"
EVENTS = (
    Event("sh-a", "H1", "cross_border_rmb", Decimal("1000.00"), "CNY", date(2020, 1, 15)),
    Event("sh-b", "H2", "cross_border_rmb", Decimal("2000.00"), "CNY", date(2020, 6, 15)),
)


@dataclass(frozen=True, slots=True)
class Api:
    private: httpx.Client  # PUBLIC_MODE off, the product default
    public: httpx.Client
    operator: dict[str, str]
    bank: dict[str, str]


@pytest.fixture(scope="module")
def api(isolated_env: dict[str, str]) -> Iterator[Api]:
    state = LedgerState(isolated_env)
    state.load_fx_seeds()
    operator, bank = state.add_operator("sh-ops"), state.add_bank("sh-a")
    state.add_bank("sh-b")
    for event in EVENTS:
        state.count(event)
    state.close()
    with ExitStack() as apps:
        private = apps.enter_context(api_client(isolated_env))
        public = apps.enter_context(api_client({**isolated_env, "PUBLIC_MODE": "true"}))
        yield Api(private, public, {"Authorization": f"Bearer {operator}"}, {"Authorization": f"Bearer {bank}"})


def assert_problem(response: httpx.Response, status: int, pointer: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if pointer is not None:
        assert [e["pointer"] for e in response.json()["errors"]] == [pointer]


def test_who_may_read_follows_progress(api: Api) -> None:
    for path in (DATA, "/v1/sdmx/structure"):
        assert_problem(api.private.get(path), 401)
        assert_problem(api.private.get(path, headers={"Authorization": "Bearer stk_not-a-key"}), 401)
        assert api.private.get(path, headers=api.bank).status_code == 200
        assert api.private.get(path, headers=api.operator).status_code == 200
        assert api.public.get(path).status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "status", "pointer"),
    [
        ("/v1/sdmx/data/EXR", {}, 404, "#/path/flow"),
        (DATA, {"startPeriod": "2020-13"}, 422, "#/query/startPeriod"),
        (DATA, {"endPeriod": "2020-W01"}, 422, "#/query/endPeriod"),
        (DATA, {"startPeriod": "2020-07", "endPeriod": "2020-Q1"}, 422, "#/query/endPeriod"),
        (DATA, {"asOf": "yesterday"}, 422, "#/query/asOf"),
        (DATA, {"updatedAfter": "2021-01-01T00:00:00"}, 422, "#/query/updatedAfter"),
        # Well-formed, but nothing is known yet at a future time.
        (DATA, {"asOf": "2999-01-15T00:00:00Z"}, 422, "#/query/asOf"),
        (DATA, {"updatedAfter": "2999-01-15T00:00:00+08:00"}, 422, "#/query/updatedAfter"),
        (DATA, {"startPeriod": "1999", "endPeriod": "1999"}, 404, None),
        (DATA + "/A.cross_border_rmb", {}, 422, "#/path/key"),
        (DATA + "/A.nope..UNITS", {}, 404, None),
        ("/v1/sdmx/structure/categoryscheme", {}, 404, "#/path/kind"),
        ("/v1/sdmx/structure/codelist/ECB/CL_FREQ", {}, 404, "#/path/agency"),
        ("/v1/sdmx/structure/codelist/SETTLEMENT/CL_NOPE", {}, 404, "#/path/resource"),
    ],
)
def test_bad_input_is_a_problem(api: Api, path: str, params: dict[str, str], status: int, pointer: str | None) -> None:
    assert_problem(api.private.get(path, params=params, headers=api.bank), status, pointer)


@pytest.mark.parametrize("accept", ["application/json", "text/csv", "application/vnd.sdmx.data+csv;version=1.0.0"])
def test_an_accept_without_an_offer_is_406(api: Api, accept: str) -> None:
    assert_problem(api.private.get(DATA, headers={**api.bank, "Accept": accept}), 406, "#/header/accept")


def test_the_period_filter_keeps_overlapping_periods(api: Api) -> None:
    response = api.private.get(DATA, params={"startPeriod": "2020-Q2", "endPeriod": "2020-06"}, headers=api.operator)
    assert response.status_code == 200, response.text
    assert response.headers["vary"] == "Accept, Authorization"
    back = read_back(response.text)
    periods = {(k[0], k[4]) for k in back}
    assert periods == {("A", "2020"), ("M", "2020-04"), ("M", "2020-05"), ("M", "2020-06")}
    assert Decimal(back[("M", "cross_border_rmb", "CNY", "UNITS", "2020-06")]["OBS_VALUE"]) == Decimal("2000.00")
    # The year's figure is the whole window, whatever the filter.
    assert Decimal(back[("A", "cross_border_rmb", "CNY", "UNITS", "2020")]["OBS_VALUE"]) == Decimal("3000.00")


def test_a_series_key_selects_series(api: Api) -> None:
    response = api.private.get(
        DATA + "/M.cross_border_rmb.CNY.UNITS", params={"endPeriod": "2020-02"}, headers=api.bank
    )
    assert response.status_code == 200, response.text
    assert set(read_back(response.text)) == {
        ("M", "cross_border_rmb", "CNY", "UNITS", "2020-01"),
        ("M", "cross_border_rmb", "CNY", "UNITS", "2020-02"),
    }
    every = api.private.get(DATA + "/all", headers=api.bank)
    assert every.text == api.private.get(DATA, headers=api.bank).text


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/sdmx/structure", {"Codelist", "ConceptScheme", "DataStructureDefinition", "Dataflow"}),
        ("/v1/sdmx/structure/datastructure", {"Codelist", "ConceptScheme", "DataStructureDefinition"}),
        ("/v1/sdmx/structure/dataflow", {"Dataflow"}),
        ("/v1/sdmx/structure/codelist", {"Codelist"}),
        ("/v1/sdmx/structure/conceptscheme", {"ConceptScheme"}),
        ("/v1/sdmx/structure/codelist/SETTLEMENT/CL_CONF_STATUS", {"Codelist"}),
    ],
)
def test_structures_read_back(api: Api, path: str, expected: set[str]) -> None:
    response = api.private.get(path, headers=api.bank)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.sdmx.structure+xml;version=2.1"
    message = read_sdmx(response.text, validate=True)
    assert {type(s).__name__ for s in message.structures or []} == expected
