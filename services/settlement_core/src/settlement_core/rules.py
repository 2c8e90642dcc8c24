"""Derivation rules: which targets an event counts toward, from the event's own fields.

Pure and shared: intake applies `derive` to refuse what a rule forbids before anything is
acknowledged, and the aggregator's projection applies it to every effect it adds to the
totals (live and in `settlementctl rebuild`), so the same rules give the same totals. The
ledger stores only what the bank sent (its declared categories), never a derived category:
after a rule changes, a rebuild recomputes history exactly under the new rules.

A rule, declared under a target in `seeds/targets.yaml`:
  - `add`: the event also counts toward the rule's target when it matches;
  - `refuse`: an event that matches is rejected at intake (422, pointer at `field`).
An event matches when every condition given holds: it declares one of `categories`, its
currency is one of `currencies`, its counterparty is foreign/domestic to `home_country`,
its direction is `direction`. Disabled rules are shown but never applied. An event whose
counterparty country is unknown (identifiers.UNKNOWN_COUNTRY) is neither foreign nor domestic:
a rule with a `counterparty` condition never matches it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from settlement_core.categories import Direction
from settlement_core.identifiers import UNKNOWN_COUNTRY


class Action(StrEnum):
    ADD = "add"
    REFUSE = "refuse"


class Counterparty(StrEnum):
    FOREIGN = "foreign"
    DOMESTIC = "domestic"


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: str
    target: str  # the category code the rule adds (or guards)
    action: Action
    categories: frozenset[str]  # declared categories that trigger it (any of)
    currencies: frozenset[str] | None  # None: any currency
    counterparty: Counterparty | None
    direction: Direction | None
    enabled: bool
    source: str
    # For `refuse`: the event field a refusal points at, and the message a bank reads.
    field: str | None = None
    message: str | None = None

    def matches(self, categories: Sequence[str], currency: str, country: str, direction: str, home: str) -> bool:
        if not self.categories.intersection(categories):
            return False
        if self.currencies is not None and currency not in self.currencies:
            return False
        if self.counterparty is not None and country == UNKNOWN_COUNTRY:
            return False
        if self.counterparty is Counterparty.FOREIGN and country == home:
            return False
        if self.counterparty is Counterparty.DOMESTIC and country != home:
            return False
        return self.direction is None or direction == self.direction


@dataclass(frozen=True, slots=True)
class Derivation:
    """What the rules make of one event: the categories it counts toward (sorted, declared
    ones included) and the refuse rules it breaks."""

    categories: tuple[str, ...]
    refused_by: tuple[Rule, ...]


class CountingRules:
    """The enabled rules of a catalogue. `derive` is memoised per distinct input: a live
    batch has few distinct (categories, currency, country, direction) tuples."""

    __slots__ = ("_adds", "_cache", "_refusals", "home_country", "rules")

    def __init__(self, rules: Sequence[Rule], home_country: str) -> None:
        self.rules = tuple(rules)
        self.home_country = home_country
        self._adds = tuple(r for r in rules if r.enabled and r.action is Action.ADD)
        self._refusals = tuple(r for r in rules if r.enabled and r.action is Action.REFUSE)
        self._cache: dict[tuple[tuple[str, ...], str, str, str], Derivation] = {}

    def derive(self, categories: tuple[str, ...], currency: str, country: str, direction: str) -> Derivation:
        key = (categories, currency, country, direction)
        found = self._cache.get(key)
        if found is not None:
            return found
        home = self.home_country
        counted = set(categories)
        # One pass over the declared categories: a derived category never triggers another
        # rule, so the result does not depend on the order of the rules.
        for rule in self._adds:
            if rule.matches(categories, currency, country, direction, home):
                counted.add(rule.target)
        refused = tuple(r for r in self._refusals if r.matches(categories, currency, country, direction, home))
        result = Derivation(tuple(sorted(counted)), refused)
        if len(self._cache) < 4096:  # bounded: the inputs come from banks
            self._cache[key] = result
        return result

    def counts_toward(
        self, categories: tuple[str, ...], currency: str, country: str, direction: str
    ) -> tuple[str, ...]:
        return self.derive(categories, currency, country, direction).categories


NO_RULES = CountingRules((), "CN")


# -- A rule set as data (the `rule_sets` table, migration 0010) -------------------------------
# Only what counting depends on is recorded: the enabled `add` rules and the home country.
# Refuse rules act at intake and never change a total; disabled rules are never applied.


def rules_document(rules: CountingRules) -> dict[str, Any]:
    """The counting-relevant part of a rule set as canonical JSON-able data (sorted)."""
    adds = sorted(
        (
            {
                "rule_id": r.rule_id,
                "target": r.target,
                "categories": sorted(r.categories),
                "currencies": None if r.currencies is None else sorted(r.currencies),
                "counterparty": None if r.counterparty is None else str(r.counterparty),
                "direction": None if r.direction is None else str(r.direction),
            }
            for r in rules.rules
            if r.enabled and r.action is Action.ADD
        ),
        key=lambda d: str(d["rule_id"]),
    )
    return {"home_country": rules.home_country, "add": adds}


def rules_digest(document: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the document's canonical JSON: equal digests count equally."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def rules_from_document(document: Mapping[str, Any]) -> CountingRules:
    """The CountingRules a `rules_document` describes (add rules only, all enabled)."""
    rules = [
        Rule(
            rule_id=str(d["rule_id"]),
            target=str(d["target"]),
            action=Action.ADD,
            categories=frozenset(d["categories"]),
            currencies=None if d["currencies"] is None else frozenset(d["currencies"]),
            counterparty=None if d["counterparty"] is None else Counterparty(d["counterparty"]),
            direction=None if d["direction"] is None else Direction(d["direction"]),
            enabled=True,
            source="rule_sets",
        )
        for d in document["add"]
    ]
    return CountingRules(rules, str(document["home_country"]))
