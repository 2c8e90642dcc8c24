"""The catalogue file's shape (`seeds/targets.yaml`) as pydantic models, and its checks
that span more than one field, in one validator.

Every model refuses unknown keys and takes values only of its fields' strict types
(`fields`); `CatalogueDocument.to_catalogue` turns a valid document into the values the
services use (`model`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from settlement_core.catalogue.fields import (
    A_MAPPING,
    Amount,
    CategoryCode,
    CategoryRef,
    Country,
    Currency,
    Day,
    Enabled,
    Kind,
    OptionalCounterparty,
    OptionalCurrencies,
    OptionalDirection,
    OptionalPurposes,
    OptionalRefusalPointer,
    OptionalText,
    Period,
    RuleAction,
    Text,
    not_null,
    problem,
)
from settlement_core.catalogue.model import Catalogue, Figure, IsoSignal, Reference, Target
from settlement_core.categories import Category
from settlement_core.rules import Action, CountingRules, Rule

# A field's place in the document: ("targets", 6, "window").
Location = tuple[str | int, ...]
F = TypeVar("F", bound=Figure)


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class WindowEntry(_Entry):
    start: Day
    end: Day


class FigureEntry(_Entry):
    """What a target and a reference share (model.Figure)."""

    code: CategoryRef
    period: Period
    amount: Amount
    currency: Currency
    display: Text
    window: WindowEntry
    source: Text

    def to_figure(self, figure_type: type[F], **own: Any) -> F:
        """A `figure_type` (Target, Reference) of these shared fields and its `own` ones."""
        return figure_type(
            code=self.code,
            period=self.period,
            amount=self.amount,
            currency=self.currency,
            display=self.display,
            window_start=self.window.start,
            window_end=self.window.end,
            source=self.source,
            **own,
        )


class TargetEntry(FigureEntry):
    def to_target(self, category: Category) -> Target:
        return self.to_figure(Target, name_zh=category.name_zh, name_en=category.name_en)


class ReferenceEntry(FigureEntry):
    kind: Kind
    note: Text | None = None  # null: no note, as before

    def to_reference(self) -> Reference:
        return self.to_figure(Reference, kind=self.kind, note=self.note)


class ConditionEntry(_Entry):
    """A rule's `when`: the event fields a rule may test (settlement_core.rules)."""

    categories: Annotated[list[CategoryRef], Field(min_length=1)]
    currencies: OptionalCurrencies = None
    counterparty: OptionalCounterparty = None
    direction: OptionalDirection = None


class RuleEntry(_Entry):
    id: Text
    action: RuleAction
    when: ConditionEntry
    enabled: Enabled
    source: Text
    # A refuse rule's pointer into the bank's event and the message the bank reads.
    field: OptionalRefusalPointer = None
    message: OptionalText = None

    def to_rule(self, target: str) -> Rule:
        return Rule(
            rule_id=self.id,
            target=target,
            action=self.action,
            categories=frozenset(self.when.categories),
            currencies=self.when.currencies,
            counterparty=self.when.counterparty,
            direction=self.when.direction,
            enabled=self.enabled,
            source=self.source,
            field=self.field,
            message=self.message,
        )


class IsoEntry(_Entry):
    purposes: OptionalPurposes = None
    account_prefix: Text | None = None  # null: no prefix condition, as before
    currencies: OptionalCurrencies = None
    counterparty: OptionalCounterparty = None

    def to_signal(self, category: str) -> IsoSignal:
        prefix = self.account_prefix.upper() if self.account_prefix else None
        return IsoSignal(category, self.purposes, prefix, self.currencies, self.counterparty)


class CategoryEntry(_Entry):
    code: CategoryCode
    name_zh: Text
    name_en: Text
    rules: list[RuleEntry] = []
    iso20022: Annotated[IsoEntry | None, not_null(A_MAPPING)] = None


class CatalogueDocument(_Entry):
    home_country: Country
    categories: Annotated[list[CategoryEntry], Field(min_length=1)]
    targets: Annotated[list[TargetEntry], Field(min_length=1)]
    references: list[ReferenceEntry] = []

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """The checks across fields and entries (unique codes, periods and rule ids, known
        category codes, windows in order and one code's target windows disjoint), in file
        order; the first problem is raised at its field's location."""
        first = next(_problems(self), None)
        if first is not None:
            location, message = first
            raise ValidationError.from_exception_data(
                type(self).__name__, [{"type": problem(message), "loc": location, "input": None}]
            )
        return self

    def to_catalogue(self) -> Catalogue:
        categories = {c.code: Category(c.code, c.name_zh, c.name_en) for c in self.categories}
        rules = [rule.to_rule(c.code) for c in self.categories for rule in c.rules]
        signals = tuple(c.iso20022.to_signal(c.code) for c in self.categories if c.iso20022 is not None)
        return Catalogue(
            categories=tuple(categories.values()),
            targets=tuple(t.to_target(categories[t.code]) for t in self.targets),
            references=tuple(r.to_reference() for r in self.references),
            rules=CountingRules(rules, self.home_country),
            iso_signals=signals,
        )


def _problems(document: CatalogueDocument) -> Iterator[tuple[Location, str]]:
    known: set[str] = set()
    for index, category in enumerate(document.categories):
        if category.code in known:
            yield ("categories", index, "code"), f"duplicate code {category.code!r}"
        known.add(category.code)
        signal = category.iso20022
        if signal is not None and (signal.purposes, signal.account_prefix, signal.currencies) == (None, None, None):
            yield ("categories", index, "iso20022"), "needs purposes, account_prefix or currencies"
    rule_ids: set[str] = set()
    for index, category in enumerate(document.categories):
        for rule_index, rule in enumerate(category.rules):
            yield from _rule_problems(rule, ("categories", index, "rules", rule_index), known, rule_ids)
    yield from _figure_problems(document.targets, "targets", known)
    yield from _overlaps(document.targets, "targets")
    yield from _figure_problems(document.references, "references", known)


def _rule_problems(rule: RuleEntry, where: Location, known: set[str], ids: set[str]) -> Iterator[tuple[Location, str]]:
    for index, code in enumerate(rule.when.categories):
        if code not in known:
            yield (*where, "when", "categories", index), f"unknown category {code!r}"
    for name, value in (("field", rule.field), ("message", rule.message)):
        if rule.action is Action.REFUSE and value is None:
            yield (*where, name), "missing (a refuse rule says what the bank is told)"
        elif rule.action is not Action.REFUSE and value is not None:
            yield (*where, name), "only for refuse rules"
    if rule.id in ids:
        yield (*where, "id"), f"duplicate rule id {rule.id!r}"
    ids.add(rule.id)


def _figure_problems(figures: Sequence[FigureEntry], where: str, known: set[str]) -> Iterator[tuple[Location, str]]:
    for index, figure in enumerate(figures):
        if figure.code not in known:
            yield (where, index, "code"), f"unknown category {figure.code!r}"
        if figure.window.end < figure.window.start:
            yield (where, index, "window", "end"), "before window.start"


def _overlaps(figures: Sequence[FigureEntry], where: str) -> Iterator[tuple[Location, str]]:
    """A code's figures of one kind: one per period, their windows disjoint."""
    by_code: dict[str, list[tuple[int, FigureEntry]]] = {}
    for index, figure in enumerate(figures):
        for other_index, other in by_code.get(figure.code, []):
            if other.period == figure.period:
                yield (where, index, "period"), f"duplicate period {figure.period!r} for {figure.code}"
            elif figure.window.start <= other.window.end and other.window.start <= figure.window.end:
                yield (where, index, "window"), f"overlaps {where}[{other_index}] ({other.period}) for {figure.code}"
        by_code.setdefault(figure.code, []).append((index, figure))
