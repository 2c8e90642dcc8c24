"""Categories of one transaction: the query's, or classified from the message's own fields.

Pure. The signals are the catalogue's (seeds/targets.yaml, each category's `iso20022`), so
every category code is named once. Classification reads the purpose codes (`CtgyPurp/Cd`, `Purp/Cd`), the bank's own
account, the currency and the counterparty country; an unknown country is neither foreign
nor domestic, so a category that needs a foreign counterparty is never found for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from settlement_core.catalogue import IsoSignal
from settlement_core.problems import FieldError
from settlement_core.rules import Counterparty

UNCLASSIFIED = (
    "the transaction could not be classified from CtgyPurp/Purp, the account, the currency and the "
    "counterparty country; send ?category= for the message"
)


@dataclass(frozen=True, slots=True)
class Facts:
    """What classification reads of one transaction."""

    purposes: frozenset[str]  # CtgyPurp/Cd and Purp/Cd codes, upper case
    own_account: str | None  # the bank's side's account id (Othr/Id or IBAN)
    currency: str | None
    counterparty_country: str | None  # None: unknown


def _matches(signal: IsoSignal, facts: Facts, home_country: str) -> bool:
    if signal.purposes is not None and not signal.purposes & facts.purposes:
        return False
    if signal.account_prefix is not None and not (facts.own_account or "").upper().startswith(signal.account_prefix):
        return False
    if signal.currencies is not None and facts.currency not in signal.currencies:
        return False
    country = facts.counterparty_country
    if signal.counterparty is not None and country is None:
        return False  # unknown: neither foreign nor domestic
    if signal.counterparty is Counterparty.FOREIGN and country == home_country:
        return False
    return not (signal.counterparty is Counterparty.DOMESTIC and country != home_country)


def classify(facts: Facts, home_country: str, signals: Sequence[IsoSignal]) -> tuple[str, ...]:
    """The categories a transaction's own fields show by the catalogue's `iso20022` signals
    (seeds/targets.yaml; sorted, may be empty)."""
    return tuple(sorted({s.category for s in signals if _matches(s, facts, home_country)}))


@dataclass(frozen=True, slots=True)
class Classification:
    """How items get their categories: the query's (`given`) or classified from the message."""

    given: tuple[str, ...]
    home_country: str
    signals: tuple[IsoSignal, ...]

    def categories(self, facts: Facts) -> tuple[tuple[str, ...], FieldError | None]:
        """(categories, None), or ((), the error) when nothing classifies the transaction."""
        if self.given:
            return self.given, None
        found = classify(facts, self.home_country, self.signals)
        if found:
            return found, None
        return (), FieldError("#/categories", UNCLASSIFIED)
