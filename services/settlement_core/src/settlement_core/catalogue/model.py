"""The catalogue's values: categories with their rules and ISO 20022 signals, targets per
period, and reference figures, as the services use them once the file is validated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from settlement_core.categories import Category
from settlement_core.rules import Counterparty, CountingRules

# The plan's display units: 亿 = 10^8.
YI = Decimal(100_000_000)
PLAN_UNIT_LABEL = {"CNY": "亿元", "USD": "亿美元"}


class ReferenceKind(StrEnum):
    BASELINE = "baseline"  # the plan's own figure for the period before it
    ACTUAL = "actual"  # an outcome published after the period


@dataclass(frozen=True, slots=True, kw_only=True)
class Figure:
    """What a target and a reference share: an amount in the currency's units for one
    category code over one period's window (both ends included), and where it is written."""

    code: str
    period: str
    amount: int
    currency: str
    display: str
    window_start: date
    window_end: date
    source: str

    @property
    def window_days(self) -> int:
        return (self.window_end - self.window_start).days + 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Target(Figure):
    """A figure the plan sets out to reach, with its category's names for display."""

    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference(Figure):
    """A labelled figure that is not a target: never counted, never summed across codes."""

    kind: ReferenceKind
    note: str | None


@dataclass(frozen=True, slots=True)
class IsoSignal:
    """What classifies an ISO 20022 transaction into `category`: every condition given holds
    (`purposes`: any of the CtgyPurp/Purp codes; `account_prefix`: the bank's customer's
    account starts with it; `currencies`; `counterparty`: foreign or domestic, never an
    unknown country)."""

    category: str
    purposes: frozenset[str] | None
    account_prefix: str | None
    currencies: frozenset[str] | None
    counterparty: Counterparty | None


@dataclass(frozen=True, slots=True)
class Catalogue:
    categories: tuple[Category, ...]
    targets: tuple[Target, ...]  # every period, in file order
    references: tuple[Reference, ...]
    rules: CountingRules
    iso_signals: tuple[IsoSignal, ...] = ()

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self.categories)

    @property
    def periods(self) -> tuple[str, ...]:
        """Target periods, oldest window first."""
        ends: dict[str, date] = {}
        for t in self.targets:
            ends[t.period] = max(ends.get(t.period, t.window_end), t.window_end)
        return tuple(sorted(ends, key=lambda p: (ends[p], p)))

    @property
    def latest_period(self) -> str:
        return self.periods[-1]

    def targets_for(self, period: str) -> tuple[Target, ...]:
        return tuple(t for t in self.targets if t.period == period)

    def references_for(self, code: str) -> tuple[Reference, ...]:
        return tuple(r for r in self.references if r.code == code)
