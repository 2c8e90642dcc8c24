"""Control totals, the pure part: checking a declaration, comparing it with the counted
events, and deciding what happens to the breaks. No I/O here; `reconcile.py` reads the
ledger and writes the breaks around these functions (docs/statistics.md, "Control totals").

- A period is a calendar month ("YYYY-MM"): the deadlines seed's control-totals rule is
  `working_day_of_next_month`, a monthly report. It can be declared once it has ended.
- A line is (target, original currency) -> (count, amount). The bank's counted events of
  a line are its ledger rows with status `counted` (reversed originals and reversals are
  not), value date in the month, whose *declared* categories include the target: a control
  total reconciles what the bank reported, and the regulator's derivation rules (which a
  rebuild may change) must not open a break the bank cannot see in its own reports.
- Difference = declared - counted, per line, exactly (Decimal; amounts carry at most the
  currency's minor-unit decimals). A line either side lacks counts as 0 events summing to 0.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from settlement_api.control_totals.schemas import MAX_COUNT, DeclarationIn
from settlement_api.kit.months import FIRST_YEAR, Month, parse_month
from settlement_core.money import AMOUNT_PATTERN, format_amount, minor_units
from settlement_core.problems import FieldError, validation_problem


@dataclass(frozen=True, slots=True, order=True)
class LineKey:
    target: str
    currency: str


@dataclass(frozen=True, slots=True)
class Figures:
    count: int
    amount: Decimal


NOTHING = Figures(0, Decimal(0))


@dataclass(frozen=True, slots=True)
class Declaration:
    period: Month
    lines: Mapping[LineKey, Figures]

    def lines_hash(self) -> str:
        """SHA-256 of the lines in canonical form (sorted; amounts at the currency's scale):
        the same figures sent in another order or as "10.5" and "10.50" are the same."""
        canonical = [
            [k.target, k.currency, f.count, format_amount(f.amount, k.currency)] for k, f in sorted(self.lines.items())
        ]
        return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()


def check_declaration(
    body: DeclarationIn, *, targets: frozenset[str], currencies: frozenset[str], max_amount: Decimal, today: date
) -> Declaration:
    """The declaration `body` states, or a 422 listing every bad field with its pointer.

    Beyond the shapes pydantic checks: the period has ended (business date `today`); each
    target is a catalogue code and each currency one intake accepts (no event can exist in
    another); an amount is a plain non-negative decimal with at most the currency's decimals;
    0 events sum to 0, and n events sum to between n minor units and n x `max_amount` (every
    event is positive and at most the intake's maximum); a (target, currency) appears once."""
    errors: list[FieldError] = []
    period = parse_month(body.period)
    if period is None:
        errors.append(FieldError("#/period", f"not a calendar month YYYY-MM from {FIRST_YEAR} on"))
    elif period.last_day >= today:
        errors.append(FieldError("#/period", f"{period.label} has not ended yet (today is {today.isoformat()})"))
    lines: dict[LineKey, Figures] = {}
    first_at: dict[LineKey, int] = {}
    for i, line in enumerate(body.lines):
        where = f"#/lines/{i}"
        bad = len(errors)
        if not 0 <= line.count <= MAX_COUNT:
            errors.append(FieldError(f"{where}/count", f"a count of events from 0 to {MAX_COUNT}"))
        if line.target not in targets:
            errors.append(FieldError(f"{where}/target", "unknown target; one of: " + ", ".join(sorted(targets))))
        if line.currency not in currencies:
            accepted = ", ".join(sorted(currencies))
            errors.append(FieldError(f"{where}/currency", f"not a currency events are accepted in: {accepted}"))
        amount = _amount(line.amount, line.currency if line.currency in currencies else None, f"{where}/amount", errors)
        if len(errors) > bad or amount is None:
            continue
        _check_sum(line.count, amount, line.currency, max_amount, f"{where}/amount", errors)
        key = LineKey(line.target, line.currency)
        if key in first_at:
            errors.append(
                FieldError(where, f"{line.target} in {line.currency} is already declared at #/lines/{first_at[key]}")
            )
            continue
        first_at[key] = i
        lines[key] = Figures(line.count, amount)
    if errors or period is None:
        raise validation_problem(errors, "The declaration has invalid fields; nothing was stored.")
    return Declaration(period, lines)


def _amount(text: str, currency: str | None, where: str, errors: list[FieldError]) -> Decimal | None:
    # [0-9] only, no sign or exponent (money.AMOUNT_PATTERN, as intake); 0 is allowed here.
    if len(text) > 40 or not AMOUNT_PATTERN.fullmatch(text):
        errors.append(FieldError(where, 'not a plain non-negative decimal string like "1234.56"'))
        return None
    if currency is None:
        return None
    decimals = len(text.split(".", 1)[1]) if "." in text else 0
    if decimals > minor_units(currency):
        errors.append(FieldError(where, f"{currency} allows at most {minor_units(currency)} decimal places"))
        return None
    return Decimal(text)


def _check_sum(
    count: int, amount: Decimal, currency: str, max_amount: Decimal, where: str, errors: list[FieldError]
) -> None:
    smallest = Decimal(1).scaleb(-minor_units(currency))
    if count == 0 and amount != 0:
        errors.append(FieldError(where, "0 events sum to 0"))
    elif amount < count * smallest:
        errors.append(FieldError(where, f"{count} events (each positive) sum to at least {count * smallest}"))
    elif amount > count * max_amount:
        most = count * max_amount
        errors.append(FieldError(where, f"{count} events of at most {max_amount:f} each sum to at most {most:f}"))


# -- comparison --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineComparison:
    key: LineKey
    declared: Figures
    counted: Figures

    @property
    def count_difference(self) -> int:
        """Declared - counted: positive when the ledger lacks events the bank declared."""
        return self.declared.count - self.counted.count

    @property
    def amount_difference(self) -> Decimal:
        return self.declared.amount - self.counted.amount

    @property
    def balanced(self) -> bool:
        return self.count_difference == 0 and self.amount_difference == 0


def compare(
    declared: Mapping[LineKey, Figures], counted: Mapping[LineKey, Figures], also: Sequence[LineKey] = ()
) -> tuple[LineComparison, ...]:
    """One comparison per line either side has (and per key of `also`, e.g. lines with an
    open break), in (target, currency) order."""
    keys = sorted(set(declared) | set(counted) | set(also))
    return tuple(LineComparison(k, declared.get(k, NOTHING), counted.get(k, NOTHING)) for k in keys)


# -- breaks ------------------------------------------------------------------------------


class BreakStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # by late events or a new declaration: the figures agree
    ACKNOWLEDGED = "acknowledged"  # by an operator, with a note


class Cause(StrEnum):
    """Why the system opened, changed or closed a break (the trail's note)."""

    DECLARATION = "declaration"
    EVENTS = "events"
    DECLARATION_AND_EVENTS = "declaration and events"


@dataclass(frozen=True, slots=True)
class BreakState:
    """The latest break of a line, as stored."""

    id: int
    key: LineKey
    status: BreakStatus
    declared: Figures
    counted: Figures


@dataclass(frozen=True, slots=True)
class OpenBreak:
    comparison: LineComparison
    cause: Cause


@dataclass(frozen=True, slots=True)
class ChangeBreak:
    break_id: int
    comparison: LineComparison
    cause: Cause


@dataclass(frozen=True, slots=True)
class CloseBreak:
    break_id: int
    comparison: LineComparison
    cause: Cause


Action = OpenBreak | ChangeBreak | CloseBreak


def _cause(previous: BreakState, now: LineComparison) -> Cause:
    declared, counted = previous.declared != now.declared, previous.counted != now.counted
    if declared and counted:
        return Cause.DECLARATION_AND_EVENTS
    return Cause.DECLARATION if declared else Cause.EVENTS


def _moved(previous: BreakState, now: LineComparison) -> bool:
    return (previous.declared, previous.counted) != (now.declared, now.counted)


def plan_breaks(
    comparisons: Sequence[LineComparison], latest: Mapping[LineKey, BreakState], opening_cause: Cause
) -> list[Action]:
    """What the comparisons do to the latest break of each line:

    - an open break whose line now balances is closed; one whose figures moved is changed;
    - an unbalanced line with no break, a closed one, or an acknowledged one whose figures
      moved since the acknowledgement (it covered that difference, not this one) opens a new
      break, caused by `opening_cause` when the line had no break before;
    - an acknowledged break whose figures did not move stays as it is.

    `comparisons` must cover every line with an open break (`compare(..., also=...)`)."""
    actions: list[Action] = []
    compared = {c.key for c in comparisons}
    missing = [k for k, b in latest.items() if b.status is BreakStatus.OPEN and k not in compared]
    if missing:
        raise ValueError(f"open breaks without a comparison: {missing}")
    for comparison in comparisons:
        previous = latest.get(comparison.key)
        if previous is not None and previous.status is BreakStatus.OPEN:
            if comparison.balanced:
                actions.append(CloseBreak(previous.id, comparison, _cause(previous, comparison)))
            elif _moved(previous, comparison):
                actions.append(ChangeBreak(previous.id, comparison, _cause(previous, comparison)))
            continue
        if comparison.balanced:
            continue
        if previous is None:
            actions.append(OpenBreak(comparison, opening_cause))
        elif previous.status is BreakStatus.CLOSED or _moved(previous, comparison):
            actions.append(OpenBreak(comparison, _cause(previous, comparison)))
    return actions
