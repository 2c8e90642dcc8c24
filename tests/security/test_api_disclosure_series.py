"""Disclosure control of the series against subtraction (secondary suppression).

Attack: the per-cell rule withholds a month with one contributing bank, but the published
figures around it still give it away: (a) the cumulative curve at that month minus the one
before, (b) /v1/progress's window total minus the shown months, (c) the day series'
cumulative against the month series', (d) the status page's /status/series.json, which
shows the same reader the same curves. The window below is publishable (4 banks), its
January, February and April have banks sec-a, sec-b and sec-c, and March has sec-d alone:
MARCH is sec-d's own business to the cent. On the starting main every attack recovered it
(test_cumulative_differences_do_not_reveal_a_thin_month failed with
`assert Decimal('777777.77') != Decimal('777777.77')`); each attack below must now find
nothing to subtract, or a sum that covers at least MIN_CONTRIBUTORS=3 banks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

import pytest

from tests.api.ledger_state import Event
from tests.conftest import ServiceRunner
from tests.security.api_stack import Apis, get, start_apis

pytestmark = pytest.mark.integration

CODE = "cross_border_rmb"
MARCH = Decimal("777777.77")  # sec-d alone
AS_OF = "2020-04-30"
EVENTS = (
    *(
        Event(bank, f"{bank}-{month}", CODE, Decimal(amount), "CNY", date(2020, month, day))
        for month in (1, 2, 4)
        for bank, amount, day in (("sec-a", "1000000.00", 10), ("sec-b", "2000000.00", 11), ("sec-c", "3000000.00", 12))
    ),
    Event("sec-d", "sec-d-3", CODE, MARCH, "CNY", date(2020, 3, 17)),
)
WINDOW = Decimal("18777777.77")  # what an operator sees at AS_OF


@pytest.fixture(scope="module")
def apis(isolated_env: dict[str, str], services: ServiceRunner) -> Apis:
    return start_apis(isolated_env, services, EVENTS)


READERS = ["anonymous-public", "bank-private", "bank-public"]


def reader(apis: Apis, who: str) -> tuple[str, dict[str, str]]:
    """The base url and headers of a non-operator; the bank is sec-a, which knows its own
    figures and would learn sec-d's from any difference that isolates March."""
    if who == "anonymous-public":
        return apis.public, {}
    return (apis.public if who.endswith("public") else apis.private), apis.banks["sec-a"]


def series(base: str, headers: dict[str, str], granularity: str) -> dict[str, object]:
    response = get(f"{base}/v1/progress/{CODE}/series", headers, granularity=granularity, as_of=AS_OF)
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


def points(body: Mapping[str, object]) -> dict[str, dict[str, object]]:
    listed = body["points"]
    assert isinstance(listed, list)
    return {p["period"]: p for p in listed}


def amount(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def difference(later: object, earlier: object) -> Decimal | None:
    a, b = amount(later), amount(earlier)
    return None if a is None or b is None else a - b


def cumulatives(*listed: Mapping[str, object]) -> list[Decimal]:
    """Every shown running total of the given points, and the 0 before the window."""
    found = [amount(p["cumulative"]) for p in listed]
    return [Decimal(0), *(v for v in found if v is not None)]


def assert_no_difference_is_march(knowns: list[Decimal], how: str) -> None:
    for low in knowns:
        for high in knowns:
            assert high - low != MARCH, f"{how} gives sec-d's March"


def assert_march_hidden(recovered: Decimal | None, how: str) -> None:
    assert recovered != MARCH, f"{how} gives sec-d's March"


def assert_month_curve_safe(month: Mapping[str, object], how: str) -> None:
    by_period = points(month)
    assert by_period["2020-03"]["settled"] is None
    # (a) cumulative at March minus the one before.
    assert_march_hidden(difference(by_period["2020-03"]["cumulative"], by_period["2020-02"]["cumulative"]), how)
    # Any two shown cumulatives around March differ by more than March alone (a sum over
    # at least 3 banks): March plus a withheld neighbour.
    assert_no_difference_is_march(cumulatives(*by_period.values()), how)


@pytest.mark.parametrize("who", READERS)
def test_cumulative_differences_do_not_reveal_a_thin_month(apis: Apis, who: str) -> None:
    base, headers = reader(apis, who)
    month = series(base, headers, "month")
    assert_month_curve_safe(month, f"{who}: month cumulative")
    # Not everything is withheld: February and April are shown (March takes January with
    # it, as the SDMX export withholds them), and so is the running total at April.
    by_period = points(month)
    assert amount(by_period["2020-02"]["settled"]) == Decimal("6000000.00")
    assert amount(by_period["2020-04"]["settled"]) == Decimal("6000000.00")
    assert amount(by_period["2020-04"]["cumulative"]) == WINDOW
    assert by_period["2020-01"]["suppressed_reason"] == (
        "withheld so that no figure of fewer than 3 banks can be derived by subtraction"
    )


@pytest.mark.parametrize("who", READERS)
def test_window_total_minus_shown_months_is_not_a_thin_month(apis: Apis, who: str) -> None:
    base, headers = reader(apis, who)
    progress = get(base + "/v1/progress", headers, as_of=AS_OF).json()
    row = next(t for t in progress["targets"] if t["code"] == CODE)
    total = amount(row["settled"])
    assert total == WINDOW  # 4 banks: the window itself is publishable
    shown = [amount(p["settled"]) for p in points(series(base, headers, "month")).values()]
    rest = total - sum((v for v in shown if v is not None), Decimal(0))
    assert_march_hidden(rest, f"{who}: /v1/progress total minus the shown months")
    # The series' own total says the same.
    top = series(base, headers, "month")
    assert amount(top["settled"]) == WINDOW


@pytest.mark.parametrize("who", READERS)
def test_day_and_month_series_together_do_not_reveal_a_thin_month(apis: Apis, who: str) -> None:
    base, headers = reader(apis, who)
    month = points(series(base, headers, "month"))
    day = points(series(base, headers, "day"))
    assert day["2020-03-17"]["settled"] is None
    # Every shown day cumulative against every shown month cumulative and every other day.
    assert_no_difference_is_march(cumulatives(*month.values(), *day.values()), f"{who}: day vs month cumulative")


@pytest.mark.parametrize("who", READERS)
def test_status_series_json_does_not_reveal_a_thin_month(apis: Apis, who: str) -> None:
    base, headers = reader(apis, who)
    body = get(base + "/status/series.json", headers, as_of=AS_OF).json()
    target = next(t for t in body["targets"] if t["code"] == CODE)
    assert_month_curve_safe(target["month"], f"{who}: /status/series.json month")
    listed = (*target["month"]["points"], *target["day"]["points"])
    assert_no_difference_is_march(cumulatives(*listed), f"{who}: /status/series.json day vs month")


def test_operator_and_the_bank_itself_see_march(apis: Apis) -> None:
    month = points(series(apis.private, apis.operator, "month"))
    assert amount(month["2020-03"]["settled"]) == MARCH
    assert month["2020-03"]["suppressed"] is False
    assert amount(month["2020-04"]["cumulative"]) == WINDOW
    own = get(
        apis.private + "/v1/totals",
        apis.banks["sec-d"],
        category=CODE,
        granularity="month",
        **{"from": "2020-03-01", "to": "2020-03-31"},
    )
    assert own.status_code == 200, own.text
    assert amount(own.json()["total"]["amount"]) == MARCH


@pytest.mark.parametrize("who", READERS)
def test_withheld_points_say_so(apis: Apis, who: str) -> None:
    base, headers = reader(apis, who)
    for granularity in ("day", "month"):
        for p in points(series(base, headers, granularity)).values():
            hidden = any(p[k] is None for k in ("settled", "cumulative")) and str(p["end"]) <= AS_OF
            assert p["suppressed"] is hidden, p
            if hidden:
                assert p["suppressed_reason"], p
