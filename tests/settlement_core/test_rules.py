"""rules: the pure derivation shared by intake and the aggregator."""

from __future__ import annotations

import pytest

from settlement_core.categories import Direction
from settlement_core.identifiers import UNKNOWN_COUNTRY
from settlement_core.rules import Action, Counterparty, CountingRules, Rule
from tests.plan_catalogue import RULES


def rule(**changes: object) -> Rule:
    values: dict[str, object] = {
        "rule_id": "r",
        "target": "cross_border_rmb",
        "action": Action.ADD,
        "categories": frozenset({"cross_border_ecommerce"}),
        "currencies": frozenset({"CNY"}),
        "counterparty": Counterparty.FOREIGN,
        "direction": None,
        "enabled": True,
        "source": "s",
    }
    values.update(changes)
    return Rule(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("categories", "currency", "country", "expected"),
    [
        (("cross_border_ecommerce",), "CNY", "SG", ("cross_border_ecommerce", "cross_border_rmb")),
        (("mnc_headquarters",), "CNY", "HK", ("cross_border_rmb", "mnc_headquarters")),
        (
            ("cross_border_ecommerce", "mnc_headquarters"),
            "CNY",
            "US",
            ("cross_border_ecommerce", "cross_border_rmb", "mnc_headquarters"),
        ),
        (("cross_border_ecommerce",), "CNY", "CN", ("cross_border_ecommerce",)),  # domestic counterparty
        (("cross_border_ecommerce",), "USD", "SG", ("cross_border_ecommerce",)),  # not RMB
        (("cross_border_ecommerce", "cross_border_rmb"), "CNY", "SG", ("cross_border_ecommerce", "cross_border_rmb")),
        (("factor_market",), "CNY", "SG", ("factor_market",)),  # no rule for it
        (("offshore",), "USD", "SG", ("offshore",)),  # the offshore-RMB rule is disabled
    ],
)
def test_seed_rules(categories: tuple[str, ...], currency: str, country: str, expected: tuple[str, ...]) -> None:
    assert RULES.counts_toward(categories, currency, country, "inbound") == expected
    assert RULES.derive(categories, currency, country, "outbound").refused_by == ()


def test_offshore_in_cny_is_refused() -> None:
    derivation = RULES.derive(("offshore",), "CNY", "SG", "inbound")
    assert [r.rule_id for r in derivation.refused_by] == ["offshore_is_foreign_currency"]
    assert RULES.derive(("offshore",), "USD", "SG", "inbound").refused_by == ()


def test_disabled_rules_are_kept_but_never_applied() -> None:
    rules = CountingRules([rule(enabled=False)], "CN")
    assert rules.counts_toward(("cross_border_ecommerce",), "CNY", "SG", "inbound") == ("cross_border_ecommerce",)
    assert len(rules.rules) == 1


def test_a_derived_category_does_not_trigger_further_rules() -> None:
    chain = CountingRules(
        [rule(), rule(rule_id="r2", target="factor_market", categories=frozenset({"cross_border_rmb"}))], "CN"
    )
    # cross_border_rmb is derived, not declared: the second rule does not see it.
    assert chain.counts_toward(("cross_border_ecommerce",), "CNY", "SG", "inbound") == (
        "cross_border_ecommerce",
        "cross_border_rmb",
    )
    assert chain.counts_toward(("cross_border_rmb",), "CNY", "SG", "inbound") == ("cross_border_rmb", "factor_market")


@pytest.mark.parametrize(
    ("changes", "country", "direction", "matches"),
    [
        ({"counterparty": Counterparty.DOMESTIC}, "CN", "inbound", True),
        ({"counterparty": Counterparty.DOMESTIC}, "SG", "inbound", False),
        ({"counterparty": None}, "CN", "inbound", True),
        ({"direction": Direction.OUTBOUND}, "SG", "inbound", False),
        ({"direction": Direction.OUTBOUND}, "SG", "outbound", True),
        ({"currencies": None}, "SG", "inbound", True),
    ],
)
def test_conditions(changes: dict[str, object], country: str, direction: str, matches: bool) -> None:
    assert rule(**changes).matches(("cross_border_ecommerce",), "CNY", country, direction, "CN") is matches


def test_the_home_country_is_the_catalogues() -> None:
    rules = CountingRules([rule()], "SG")
    assert rules.counts_toward(("cross_border_ecommerce",), "CNY", "SG", "inbound") == ("cross_border_ecommerce",)
    assert rules.counts_toward(("cross_border_ecommerce",), "CNY", "CN", "inbound") == (
        "cross_border_ecommerce",
        "cross_border_rmb",
    )


def test_memoised_results_are_the_computed_ones() -> None:
    rules = CountingRules([rule()], "CN")
    first = rules.derive(("cross_border_ecommerce",), "CNY", "SG", "inbound")
    assert rules.derive(("cross_border_ecommerce",), "CNY", "SG", "inbound") is first
    assert rules.derive(("cross_border_ecommerce",), "CNY", "CN", "inbound") != first


def test_a_rule_needing_a_foreign_or_domestic_counterparty_never_fires_on_an_unknown_country() -> None:
    # RMB e-commerce with an unknown counterparty: counted as declared, never as
    # cross-border RMB (that needs a foreign counterparty, which is not known).
    assert RULES.counts_toward(("cross_border_ecommerce",), "CNY", UNKNOWN_COUNTRY, "inbound") == (
        "cross_border_ecommerce",
    )
    domestic = CountingRules([rule(counterparty=Counterparty.DOMESTIC)], "CN")
    assert domestic.counts_toward(("cross_border_ecommerce",), "CNY", UNKNOWN_COUNTRY, "inbound") == (
        "cross_border_ecommerce",
    )
    # A rule without a counterparty condition still applies.
    anywhere = CountingRules([rule(counterparty=None)], "CN")
    assert anywhere.counts_toward(("cross_border_ecommerce",), "CNY", UNKNOWN_COUNTRY, "inbound") == (
        "cross_border_ecommerce",
        "cross_border_rmb",
    )
    # The refuse rule has no counterparty condition: offshore in CNY is refused whatever the country.
    assert [r.rule_id for r in RULES.derive(("offshore",), "CNY", UNKNOWN_COUNTRY, "inbound").refused_by] == [
        "offshore_is_foreign_currency"
    ]
