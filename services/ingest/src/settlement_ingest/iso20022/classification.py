"""Categories of one transaction: the query's, or classified from the message's own fields.

Pure. Classification reads the purpose codes (`CtgyPurp/Cd`, `Purp/Cd`), the bank's own
account, the currency and the counterparty country; an unknown country is neither foreign
nor domestic, so a category that needs a foreign counterparty is never found for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from settlement_core.problems import FieldError

# ISO 20022 external code sets (ExternalCategoryPurpose1Code / ExternalPurpose1Code).
CASH_POOL_PURPOSES = frozenset({"INTC", "CASH", "SWEP", "LIMA"})
ECOMMERCE_PURPOSES = frozenset({"ECPG", "ECPU", "RETL"})
# Chinese offshore banking accounts (离岸账户) carry the OSA prefix; offshore business is
# known by its account, not by a purpose code.
OFFSHORE_ACCOUNT_PREFIX = "OSA"
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


def classify(facts: Facts, home_country: str) -> tuple[str, ...]:
    """The categories a transaction's own fields show (sorted; may be empty)."""
    found: set[str] = set()
    foreign = facts.counterparty_country is not None and facts.counterparty_country != home_country
    if facts.purposes & CASH_POOL_PURPOSES:
        found.add("mnc_headquarters")
    if facts.purposes & ECOMMERCE_PURPOSES and foreign:
        found.add("cross_border_ecommerce")
    if facts.own_account is not None and facts.own_account.upper().startswith(OFFSHORE_ACCOUNT_PREFIX):
        found.add("offshore")
    if facts.currency == "CNY" and foreign:
        found.add("cross_border_rmb")
    return tuple(sorted(found))


@dataclass(frozen=True, slots=True)
class Classification:
    """How items get their categories: the query's (`given`) or classified from the message."""

    given: tuple[str, ...]
    home_country: str

    def categories(self, facts: Facts) -> tuple[tuple[str, ...], FieldError | None]:
        """(categories, None), or ((), the error) when nothing classifies the transaction."""
        if self.given:
            return self.given, None
        found = classify(facts, self.home_country)
        if found:
            return found, None
        return (), FieldError("#/categories", UNCLASSIFIED)
