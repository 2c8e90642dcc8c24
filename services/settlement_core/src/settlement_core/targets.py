"""The catalogue (`seeds/targets.yaml`): categories, targets per period, reference figures
and derivation rules, validated strictly at start-up.

- A category is a statistic of a plan (code, names) with the rules that add it to events,
  and optionally the ISO 20022 facts that classify a transaction into it (`iso20022`:
  purpose codes, the customer's account prefix, currencies, a foreign or domestic
  counterparty), so that each code is named once, here.
- A target is (code, period, amount, currency, window, source); a code may have targets for
  several periods (a successor plan's), whose windows must not overlap.
- A reference is a labelled figure that is not a target: a plan's own baseline
  (`baseline`) or a published outcome (`actual`), each with its source, shown beside the
  tracked figure. References are never counted, and no figure is ever summed across codes.

Every error names the offending field (`categories[0].rules[1].when.currencies`), so a bad
catalogue stops a service at start-up with a message an operator can act on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from settlement_core.categories import CATEGORY_CODE_PATTERN, DIRECTION_BY_VALUE, Category
from settlement_core.dates import DateFormatError, parse_iso_date
from settlement_core.events import COUNTRY_PATTERN
from settlement_core.money import MINOR_UNITS
from settlement_core.rules import Action, Counterparty, CountingRules, Rule

# The plan's display units: 亿 = 10^8.
YI = Decimal(100_000_000)
PLAN_UNIT_LABEL = {"CNY": "亿元", "USD": "亿美元"}
# Fields of an event a rule may test (its own fields; see settlement_core.rules).
RULE_FIELDS = ("categories", "currencies", "counterparty", "direction")
# A period label: also a Prometheus label value and a query parameter.
PERIOD_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,31}")
# Fields a refusal may point at in the bank's event.
REFUSAL_POINTERS = ("currency", "categories", "counterparty_country", "direction")


class TargetsFileError(ValueError):
    """A malformed catalogue; the message names the offending field."""


class ReferenceKind(StrEnum):
    BASELINE = "baseline"  # the plan's own figure for the period before it
    ACTUAL = "actual"  # an outcome published after the period


@dataclass(frozen=True, slots=True)
class Target:
    code: str
    period: str
    name_zh: str
    name_en: str
    amount: int
    currency: str
    display: str
    window_start: date
    window_end: date
    source: str

    @property
    def window_days(self) -> int:
        return (self.window_end - self.window_start).days + 1


@dataclass(frozen=True, slots=True)
class Reference:
    code: str
    period: str
    kind: ReferenceKind
    amount: int
    currency: str
    display: str
    window_start: date
    window_end: date
    source: str
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


_CATEGORY_FIELDS = frozenset({"code", "name_zh", "name_en", "rules"})
_TARGET_FIELDS = ("code", "period", "amount", "currency", "display", "window", "source")
_REFERENCE_FIELDS = ("code", "period", "kind", "amount", "currency", "display", "window", "source")
_RULE_FIELDS = ("id", "action", "when", "enabled", "source")
_SIGNAL_FIELDS = ("purposes", "account_prefix", "currencies", "counterparty")
_ISO_CODE = re.compile(r"[A-Z0-9]{1,4}")
_WINDOW_FIELDS = ("start", "end")


def _mapping(value: Any, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TargetsFileError(f"{where}: must be a mapping")
    for name in required:
        if name not in value:
            raise TargetsFileError(f"{where}.{name}: missing")
    unknown = set(value) - set(required) - set(optional)
    if unknown:
        raise TargetsFileError(f"{where}.{sorted(map(str, unknown))[0]}: unknown field")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise TargetsFileError(f"{where}: must be a list")
    return value


def _text(entry: dict[str, Any], name: str, where: str) -> str:
    value = entry[name]
    if not isinstance(value, str) or not value.strip():
        raise TargetsFileError(f"{where}.{name}: must be a non-empty string")
    return value


def _date(value: Any, where: str) -> date:
    # YAML gives a date for an unquoted 2020-01-01 and a datetime for 2020-01-01 10:00; a
    # datetime (a date subclass) would not compare with dates later, so it is refused.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return parse_iso_date(value)
    except DateFormatError:
        raise TargetsFileError(f"{where}: must be a date YYYY-MM-DD") from None


def _window(entry: dict[str, Any], where: str) -> tuple[date, date]:
    window = _mapping(entry["window"], f"{where}.window", _WINDOW_FIELDS)
    start = _date(window["start"], f"{where}.window.start")
    end = _date(window["end"], f"{where}.window.end")
    if end < start:
        raise TargetsFileError(f"{where}.window.end: before window.start")
    return start, end


def _amount(entry: dict[str, Any], where: str) -> tuple[int, str]:
    amount = entry["amount"]
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise TargetsFileError(f"{where}.amount: must be a positive integer")
    currency = _text(entry, "currency", where)
    if currency not in MINOR_UNITS:
        raise TargetsFileError(f"{where}.currency: unknown currency {currency!r}")
    return amount, currency


def _period(entry: dict[str, Any], where: str) -> str:
    period = entry["period"]
    if isinstance(period, int) and not isinstance(period, bool):
        period = str(period)  # YAML reads an unquoted 2020 as a number
    if not isinstance(period, str) or not PERIOD_PATTERN.fullmatch(period):
        raise TargetsFileError(f"{where}.period: must be a label such as 2020 or 2016-2020")
    return period


def _code(entry: dict[str, Any], where: str, known: dict[str, Category]) -> Category:
    code = entry["code"]
    if not isinstance(code, str) or code not in known:
        raise TargetsFileError(f"{where}.code: unknown category {code!r}")
    return known[code]


def _codes(value: Any, where: str, known: set[str]) -> frozenset[str]:
    items = _list(value, where)
    if not items:
        raise TargetsFileError(f"{where}: must not be empty")
    for index, code in enumerate(items):
        if not isinstance(code, str) or code not in known:
            raise TargetsFileError(f"{where}[{index}]: unknown category {code!r}")
    return frozenset(items)


def _signal(value: Any, where: str, category: str) -> IsoSignal:
    entry = _mapping(value, where, (), _SIGNAL_FIELDS)
    if not {"purposes", "account_prefix", "currencies"} & set(entry):
        raise TargetsFileError(f"{where}: needs purposes, account_prefix or currencies")
    purposes = None
    if "purposes" in entry:
        purposes = frozenset(str(c) for c in _list(entry["purposes"], f"{where}.purposes"))
        bad = sorted(c for c in purposes if not _ISO_CODE.fullmatch(c))
        if bad or not purposes:
            raise TargetsFileError(f"{where}.purposes: not an ISO 20022 purpose code {bad[0] if bad else None!r}")
    prefix = entry.get("account_prefix")
    if prefix is not None and (not isinstance(prefix, str) or not prefix.strip()):
        raise TargetsFileError(f"{where}.account_prefix: must be a non-empty string")
    currencies = None
    if "currencies" in entry:
        currencies = frozenset(str(c) for c in _list(entry["currencies"], f"{where}.currencies"))
        bad = sorted(c for c in currencies if c not in MINOR_UNITS)
        if bad or not currencies:
            raise TargetsFileError(f"{where}.currencies: unknown currency {bad[0] if bad else None!r}")
    counterparty = None
    if "counterparty" in entry:
        try:
            counterparty = Counterparty(entry["counterparty"])
        except ValueError:
            raise TargetsFileError(f"{where}.counterparty: must be foreign or domestic") from None
    return IsoSignal(category, purposes, prefix.upper() if prefix else None, currencies, counterparty)


def _rule(value: Any, where: str, target: str, known: set[str]) -> Rule:
    entry = _mapping(value, where, _RULE_FIELDS, ("field", "message"))
    rule_id = _text(entry, "id", where)
    try:
        action = Action(entry["action"])
    except ValueError:
        raise TargetsFileError(f"{where}.action: must be one of {', '.join(a.value for a in Action)}") from None
    if not isinstance(entry["enabled"], bool):
        raise TargetsFileError(f"{where}.enabled: must be true or false")
    when = _mapping(entry["when"], f"{where}.when", ("categories",), RULE_FIELDS[1:])
    categories = _codes(when["categories"], f"{where}.when.categories", known)
    currencies: frozenset[str] | None = None
    if "currencies" in when:
        currencies = frozenset(_list(when["currencies"], f"{where}.when.currencies"))
        bad = sorted(str(c) for c in currencies if c not in MINOR_UNITS)
        if bad or not currencies:
            raise TargetsFileError(f"{where}.when.currencies: unknown currency {bad[0] if bad else None!r}")
    counterparty = None
    if "counterparty" in when:
        try:
            counterparty = Counterparty(when["counterparty"])
        except ValueError:
            raise TargetsFileError(f"{where}.when.counterparty: must be foreign or domestic") from None
    direction = None
    if "direction" in when:
        direction = DIRECTION_BY_VALUE.get(str(when["direction"]))
        if direction is None:
            raise TargetsFileError(f"{where}.when.direction: must be inbound or outbound")
    field = message = None
    if action is Action.REFUSE:
        for name in ("field", "message"):
            if name not in entry:
                raise TargetsFileError(f"{where}.{name}: missing (a refuse rule says what the bank is told)")
        field = _text(entry, "field", where)
        if field not in REFUSAL_POINTERS:
            raise TargetsFileError(f"{where}.field: unknown event field {field!r}")
        message = _text(entry, "message", where)
    elif "field" in entry or "message" in entry:
        raise TargetsFileError(f"{where}.{'field' if 'field' in entry else 'message'}: only for refuse rules")
    return Rule(
        rule_id=rule_id,
        target=target,
        action=action,
        categories=categories,
        currencies=currencies,
        counterparty=counterparty,
        direction=direction,
        enabled=entry["enabled"],
        source=_text(entry, "source", where),
        field=field,
        message=message,
    )


def _check_overlaps(items: Sequence[Target | Reference], where: str) -> None:
    by_code: dict[str, list[tuple[int, Target | Reference]]] = {}
    for index, item in enumerate(items):
        for other_index, other in by_code.get(item.code, []):
            if other.period == item.period:
                raise TargetsFileError(f"{where}[{index}].period: duplicate period {item.period!r} for {item.code}")
            if item.window_start <= other.window_end and other.window_start <= item.window_end:
                raise TargetsFileError(
                    f"{where}[{index}].window: overlaps {where}[{other_index}] ({other.period}) for {item.code}"
                )
        by_code.setdefault(item.code, []).append((index, item))


def parse_catalogue(document: Any) -> Catalogue:
    doc = _mapping(document, "catalogue", ("home_country", "categories", "targets"), ("references",))
    home = doc["home_country"]
    if not isinstance(home, str) or not COUNTRY_PATTERN.fullmatch(home):
        raise TargetsFileError("home_country: must be an ISO 3166-1 alpha-2 code")

    known: dict[str, Category] = {}
    raw_rules: list[tuple[str, str, Any]] = []
    signals: list[IsoSignal] = []
    for index, value in enumerate(_list(doc["categories"], "categories")):
        where = f"categories[{index}]"
        entry = _mapping(value, where, ("code", "name_zh", "name_en"), ("rules", "iso20022"))
        code = entry["code"]
        if not isinstance(code, str) or not CATEGORY_CODE_PATTERN.fullmatch(code):
            raise TargetsFileError(f"{where}.code: must be lower-case letters, digits and _ (max 32)")
        if code in known:
            raise TargetsFileError(f"{where}.code: duplicate code {code!r}")
        known[code] = Category(code, _text(entry, "name_zh", where), _text(entry, "name_en", where))
        for rule_index, rule in enumerate(_list(entry.get("rules", []), f"{where}.rules")):
            raw_rules.append((f"{where}.rules[{rule_index}]", code, rule))
        if "iso20022" in entry:
            signals.append(_signal(entry["iso20022"], f"{where}.iso20022", code))
    if not known:
        raise TargetsFileError("categories: must not be empty")
    rules = [_rule(value, where, code, set(known)) for where, code, value in raw_rules]
    ids: set[str] = set()
    for (where, _, _), rule in zip(raw_rules, rules, strict=True):
        if rule.rule_id in ids:
            raise TargetsFileError(f"{where}.id: duplicate rule id {rule.rule_id!r}")
        ids.add(rule.rule_id)

    targets: list[Target] = []
    for index, value in enumerate(_list(doc["targets"], "targets")):
        where = f"targets[{index}]"
        entry = _mapping(value, where, _TARGET_FIELDS)
        category = _code(entry, where, known)
        amount, currency = _amount(entry, where)
        start, end = _window(entry, where)
        targets.append(
            Target(
                code=category.code,
                period=_period(entry, where),
                name_zh=category.name_zh,
                name_en=category.name_en,
                amount=amount,
                currency=currency,
                display=_text(entry, "display", where),
                window_start=start,
                window_end=end,
                source=_text(entry, "source", where),
            )
        )
    if not targets:
        raise TargetsFileError("targets: must not be empty")
    _check_overlaps(targets, "targets")

    references: list[Reference] = []
    for index, value in enumerate(_list(doc.get("references", []), "references")):
        where = f"references[{index}]"
        entry = _mapping(value, where, _REFERENCE_FIELDS, ("note",))
        category = _code(entry, where, known)
        try:
            kind = ReferenceKind(entry["kind"])
        except ValueError:
            raise TargetsFileError(f"{where}.kind: must be baseline or actual") from None
        amount, currency = _amount(entry, where)
        start, end = _window(entry, where)
        note = entry.get("note")
        if note is not None and (not isinstance(note, str) or not note.strip()):
            raise TargetsFileError(f"{where}.note: must be a non-empty string")
        references.append(
            Reference(
                category.code,
                _period(entry, where),
                kind,
                amount,
                currency,
                _text(entry, "display", where),
                start,
                end,
                _text(entry, "source", where),
                note,
            )
        )
    return Catalogue(
        tuple(known.values()), tuple(targets), tuple(references), CountingRules(rules, home), tuple(signals)
    )


def _read(path: Path, parse: Callable[[Any], Catalogue]) -> Catalogue:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TargetsFileError(f"targets file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise TargetsFileError(f"targets file {path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise TargetsFileError(f"targets file {path}: not valid YAML: {exc}") from None
    return parse(document)


def load_catalogue(path: Path) -> Catalogue:
    return _read(path, parse_catalogue)


def load_targets(path: Path) -> tuple[Target, ...]:
    """The targets of the catalogue's latest period (one per code), for tools that only
    need the figures currently tracked (the demo feed, `settlementctl init`)."""
    catalogue = load_catalogue(path)
    return catalogue.targets_for(catalogue.latest_period)
